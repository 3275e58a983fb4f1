package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same etcdctl 3.4 session against a fresh Vigil process and a fresh real etcd 3.4: every
 * command must print the same thing (ids and raft term aside) and exit the same way. Both start at
 * revision 1, so revisions, versions and errors line up exactly.
 */
class EtcdctlDifferentialTest {
    @TempDir
    Path tmp;

    private record Step(String stdin, String... args) {
        static Step of(String... args) {
            return new Step(null, args);
        }

        @Override
        public String toString() {
            return "etcdctl " + String.join(" ", args) + (stdin == null ? "" : " <<< " + stdin.replace("\n", "\\n"));
        }
    }

    private static final List<Step> SESSION = List.of(
            // puts
            Step.of("get", "foo", "-w", "json"),
            Step.of("put", "foo", "bar"),
            Step.of("put", "foo", "baz", "--prev-kv"),
            Step.of("put", "foo", "--ignore-value", "-w", "json"),
            Step.of("put", "missing", "--ignore-value"),
            Step.of("put", "missing", "--ignore-value", "--lease=1234"),
            Step.of("put", "missing", "v", "--lease=1234"),
            Step.of("put", "empty", ""),
            Step.of("put", "k1", "v1"),
            Step.of("put", "k2", "v22"),
            Step.of("put", "k3", "v333", "-w", "json"),
            Step.of("put", "k2", "v2again"),
            Step.of("put", "a", "first"),
            Step.of("put", "z", "last"),
            Step.of("put", "", "no-key"),
            // gets
            Step.of("get", "foo"),
            Step.of("get", "foo", "-w", "json"),
            Step.of("get", "--prefix", "k"),
            Step.of("get", "--prefix", "k", "-w", "json"),
            Step.of("get", "--from-key", "k2"),
            Step.of("get", "a", "k2"),
            Step.of("get", "foo", "--rev=2"),
            Step.of("get", "foo", "--rev=3", "-w", "json"),
            Step.of("get", "foo", "--rev=1000"),
            Step.of("get", "--prefix", "k", "--limit", "2", "-w", "json"),
            Step.of("get", "--prefix", "", "--limit", "3"),
            Step.of("get", "--from-key", "a", "--limit=9223372036854775807", "-w", "json"),
            Step.of("get", "--prefix", "k", "--sort-by", "MODIFY", "--order", "DESCEND"),
            Step.of("get", "--prefix", "k", "--sort-by", "VERSION"),
            Step.of("get", "--prefix", "k", "--sort-by", "CREATE", "--order", "ASCEND"),
            Step.of("get", "--prefix", "k", "--sort-by", "VALUE", "--order", "DESCEND", "--limit", "2"),
            Step.of("get", "--prefix", "k", "--sort-by", "KEY", "--order", "DESCEND"),
            Step.of("get", "--prefix", "k", "--keys-only"),
            Step.of("get", "--prefix", "k", "--count-only", "-w", "json"),
            Step.of("get", "--prefix", "k", "--print-value-only"),
            Step.of("get", "--from-key", "", "--keys-only"),
            Step.of("get", "k1", "--consistency", "s", "-w", "json"),
            Step.of("get", "nothing-here", "-w", "json"),
            Step.of("get", "", "--prefix", "--count-only", "-w", "json"),
            // txns: compares on value, version, create and mod
            new Step("value(\"foo\") = \"baz\"\n\nput foo q\nget foo\ndel nothing\nput k9 v\n\nget k9\n\n", "txn", "-w", "json"),
            new Step("version(\"k2\") = \"2\"\nmod(\"k1\") < \"100\"\n\nput k1 changed\n\nput k1 failed\n\n", "txn"),
            new Step("create(\"k3\") > \"100\"\n\nput k3 nope\n\nget k3\ndel k2 --prev-kv\n\n", "txn", "-w", "json"),
            new Step("value(\"k1\") != \"zzz\"\n\nget --prefix k\n\n\n", "txn"),
            new Step("\n\nget foo\n\n\n", "txn", "-w", "json"),
            new Step("value(\"nope\") = \"x\"\n\n\nput nope x\n\n", "txn", "-w", "json"),
            new Step("mod(\"k1\") > \"0\"\n\nput k7 a\nput k7 b\n\n\n", "txn"),
            new Step("value(\"foo\") = \"q\"\n\nput k8 i\n\nput k8 j\n\n", "txn", "-i"),
            // deletes
            Step.of("del", "nothing"),
            Step.of("del", "k1", "--prev-kv"),
            Step.of("del", "--prefix", "k", "-w", "json"),
            Step.of("put", "x1", "1"),
            Step.of("put", "x2", "2"),
            Step.of("del", "--from-key", "x", "--prev-kv"),
            Step.of("get", "--from-key", "", "-w", "json"),
            // compaction and history
            Step.of("get", "k2", "--rev=9", "-w", "json"),
            Step.of("compaction", "0"),
            Step.of("compaction", "0"),
            Step.of("compaction", "5"),
            Step.of("get", "foo", "--rev=4"),
            Step.of("get", "foo", "--rev=5", "-w", "json"),
            Step.of("get", "k2", "--rev=9", "-w", "json"),
            Step.of("compaction", "3"),
            Step.of("compaction", "5"),
            Step.of("compaction", "1000"),
            Step.of("compaction", "--physical", "12"),
            Step.of("get", "--from-key", "", "--rev=12", "-w", "json"),
            Step.of("get", "--prefix", "", "-w", "json"));

    @Test
    void etcdctlSessionMatchesRealEtcd() throws Exception {
        ReferenceEtcd.assumeInstalled();
        List<String> mismatches = new ArrayList<>();
        try (ReferenceEtcd etcd = ReferenceEtcd.start(tmp); VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            for (Step step : SESSION) {
                String expected = Etcdctl.run(etcd.endpoint(), step.stdin(), step.args()).normalized();
                String actual = Etcdctl.run(vigil.endpoint(), step.stdin(), step.args()).normalized();
                if (!expected.equals(actual)) {
                    mismatches.add(step + "\n--- etcd:\n" + expected + "\n--- vigil:\n" + actual);
                }
            }
        }
        assertEquals("", String.join("\n\n", mismatches));
    }
}
