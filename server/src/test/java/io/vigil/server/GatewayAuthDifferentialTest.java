package io.vigil.server;

import static io.vigil.server.Curl.b64;
import static io.vigil.server.GatewaySession.post;
import static io.vigil.server.GatewaySession.postAs;
import static io.vigil.server.GatewaySession.postWithToken;

import io.vigil.server.GatewaySession.Step;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON gateway's Auth paths against etcd 3.4's, with curl: users, roles and permissions,
 * enabling auth, tokens from /v3/auth/authenticate carried in the Authorization header, and the
 * refusals (no token, a bad token, no permission, not root), byte for byte after ids and tokens.
 */
class GatewayAuthDifferentialTest {
    @TempDir
    Path tmp;

    private static final String K = b64("k");
    private static final String L = b64("l");

    private static final List<Step> SESSION = List.of(
            post("/v3/auth/enable", "{}"),
            post("/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"pw\"}"),
            post("/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"pw\"}"),
            post("/v3/auth/enable", "{}"),
            post("/v3/auth/role/add", "{\"name\":\"root\"}"),
            post("/v3/auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}"),
            post("/v3/auth/user/add", "{\"name\":\"alice\",\"password\":\"a\"}"),
            post("/v3/auth/user/add", "{\"name\":\"\"}"),
            post("/v3/auth/role/add", "{\"name\":\"reader\"}"),
            post("/v3/auth/role/grant", "{\"name\":\"reader\",\"perm\":{\"key\":\"" + K + "\",\"range_end\":\"" + L + "\"}}"),
            post("/v3/auth/role/grant", "{\"name\":\"reader\",\"perm\":{\"permType\":\"WRITE\",\"key\":\"" + b64("w") + "\"}}"),
            post("/v3/auth/role/grant", "{\"name\":\"nobody\",\"perm\":{\"key\":\"" + K + "\"}}"),
            post("/v3/auth/user/grant", "{\"user\":\"alice\",\"role\":\"reader\"}"),
            post("/v3/auth/user/grant", "{\"user\":\"alice\",\"role\":\"nothing\"}"),
            post("/v3/auth/user/get", "{\"name\":\"alice\"}"),
            post("/v3/auth/user/get", "{\"name\":\"bob\"}"),
            post("/v3/auth/user/list", "{}"),
            post("/v3/auth/role/get", "{\"role\":\"reader\"}"),
            post("/v3/auth/role/list", "{}"),
            post("/v3/kv/put", "{\"key\":\"" + K + "\",\"value\":\"" + b64("v") + "\"}"),
            post("/v3/auth/enable", "{}"),
            // with auth on
            post("/v3/kv/range", "{\"key\":\"" + K + "\"}"),
            postAs("not-a-token", "/v3/kv/range", "{\"key\":\"" + K + "\"}"),
            post("/v3/auth/authenticate", "{\"name\":\"alice\",\"password\":\"wrong\"}"),
            post("/v3/auth/authenticate", "{\"name\":\"alice\",\"password\":\"a\"}"),
            postWithToken("/v3/kv/range", "{\"key\":\"" + K + "\"}"),
            postWithToken("/v3/kv/put", "{\"key\":\"" + K + "\",\"value\":\"" + b64("x") + "\"}"),
            postWithToken("/v3/auth/user/list", "{}"),
            postWithToken("/v3/maintenance/defragment", "{}"),
            postWithToken("/v3/cluster/member/remove", "{\"ID\":\"1\"}"),
            postWithToken("/v3/maintenance/status", "{}"),
            postWithToken("/v3beta/kv/range", "{\"key\":\"" + b64("z") + "\"}"),
            post("/v3/auth/authenticate", "{\"name\":\"root\",\"password\":\"pw\"}"),
            postWithToken("/v3/auth/user/changepw", "{\"name\":\"alice\",\"password\":\"b\"}"),
            postWithToken("/v3/auth/role/revoke", "{\"role\":\"reader\",\"key\":\"" + K + "\",\"range_end\":\"" + L + "\"}"),
            postWithToken("/v3/auth/user/revoke", "{\"name\":\"alice\",\"role\":\"reader\"}"),
            postWithToken("/v3/auth/role/delete", "{\"role\":\"reader\"}"),
            postWithToken("/v3/auth/user/delete", "{\"name\":\"alice\"}"),
            postWithToken("/v3/auth/user/delete", "{\"name\":\"alice\"}"),
            postWithToken("/v3/auth/disable", "{}"),
            post("/v3/kv/range", "{\"key\":\"" + K + "\"}"),
            post("/v3/auth/disable", "{}"));

    @Test
    void authOverJsonMatchesEtcdsGateway() throws Exception {
        GatewaySession.compare(tmp, SESSION);
    }
}
