package io.vigil.robustness.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Serializable reads need not be linearizable, but a member's serializable reads never go back in
 * time (a read called after another on the same member returned sees at least its revision), and
 * no read sees a revision before the earliest instant that revision can have been written.
 */
final class SerializableReads {
    private final RealTime realTime;
    private final List<RealTime.Read> reads;

    SerializableReads(RealTime realTime, List<RealTime.Read> reads) {
        this.realTime = realTime;
        this.reads = reads;
    }

    List<Violation> check() {
        List<Violation> violations = new ArrayList<>();
        Map<String, List<RealTime.Read>> byMember = new TreeMap<>();
        for (RealTime.Read read : reads) {
            byMember.computeIfAbsent(read.op().operation().getMember(), m -> new ArrayList<>()).add(read);
            long earliest = realTime.earliest(read.revision());
            if (earliest != RealTime.NEG && earliest > read.op().ret()) {
                RealTime.Bound why = realTime.earliestWhy(read.revision());
                violations.add(Violation.ofOperation(Violation.Kind.SERIALIZABLE_FROM_FUTURE, read.revision(), read.op(),
                        "serializable read from the future: " + read.op().describe() + " answered revision "
                                + read.revision() + ", which cannot have been written before " + Keys.seconds(earliest)
                                + (why != null && why.op() != null ? " (" + why.op().describe() + ")" : "")));
            }
        }
        for (List<RealTime.Read> member : byMember.values()) {
            List<RealTime.Read> byCall = new ArrayList<>(member);
            byCall.sort(Comparator.comparingLong(read -> read.op().call()));
            List<RealTime.Read> byReturn = new ArrayList<>(member);
            byReturn.sort(Comparator.comparingLong(read -> read.op().ret()));
            // invariant: newest is the highest revision among the reads returned before the current call
            RealTime.Read newest = null;
            int returned = 0;
            for (RealTime.Read read : byCall) {
                while (returned < byReturn.size() && byReturn.get(returned).op().ret() < read.op().call()) {
                    RealTime.Read done = byReturn.get(returned++);
                    if (newest == null || done.revision() > newest.revision()) {
                        newest = done;
                    }
                }
                if (newest != null && read.revision() < newest.revision()) {
                    violations.add(Violation.ofOperation(Violation.Kind.SERIALIZABLE_BACKWARDS, read.revision(), read.op(),
                            "serializable read went back in time: " + read.op().describe() + " answered revision "
                                    + read.revision() + ", but " + newest.op().describe() + " had answered revision "
                                    + newest.revision()));
                }
            }
        }
        return violations;
    }
}
