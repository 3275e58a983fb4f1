/**
 * The watch hub: routes each committed revision to the watchers whose range it touches (the live
 * path), and replays history from the revision log for watchers behind the head (the catch-up
 * path), joining them to the live path without a gap or a duplicate. Public API: {@link
 * io.vigil.watch.WatchHub} (the deterministic core), {@link io.vigil.watch.WatchHubThreads} (the
 * threads that drive it in a server), {@link io.vigil.watch.WatchStream} and
 * {@link io.vigil.watch.WatchSink} (one client stream and its transport), {@link
 * io.vigil.watch.WatchOut} (a response in wire form, its parts shared).
 */
package io.vigil.watch;
