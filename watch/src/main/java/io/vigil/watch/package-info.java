/**
 * The watch hub: routes each committed revision batch to the watchers whose range it touches, and
 * replays history from the revision log for watchers behind the head. Not built yet (see
 * "Status" in docs/architecture.md). Until it is, the server does not register the Watch service and clients get
 * UNIMPLEMENTED.
 */
package io.vigil.watch;
