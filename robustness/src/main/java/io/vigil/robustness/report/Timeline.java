package io.vigil.robustness.report;

import io.vigil.proto.history.FaultRecord;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.WatchRecord;
import io.vigil.robustness.check.Describe;
import io.vigil.robustness.history.History;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A failing run's history as a page a person can read: one lane per client with its requests as
 * bars (from call to return; green answered, red failed for certain, grey unknown outcome), one
 * lane per watcher with a tick per message, the faults as shaded bands across all lanes, and the
 * violations as red lines. Only what lies in a window around the violations is drawn; hovering a
 * bar shows the request and its response.
 */
public final class Timeline {
    /** Something to point at: a violation, at an instant of the run. */
    public record Mark(long nanos, String label) {}

    private static final int WIDTH = 1600;
    private static final int LANE = 18;
    private static final int LEFT = 110;
    private static final int TOP = 40;

    private Timeline() {}

    /** The page for {@code [fromNanos, toNanos]} of the run. */
    public static String html(History history, long fromNanos, long toNanos, List<Mark> marks, String title) {
        long span = Math.max(1, toNanos - fromNanos);
        double scale = (double) (WIDTH - LEFT - 10) / span;
        Map<String, List<Operation>> clients = new TreeMap<>();
        for (Operation op : history.operations()) {
            long end = op.getReturnNanos() == 0 ? Long.MAX_VALUE : op.getReturnNanos();
            if (end >= fromNanos && op.getCallNanos() <= toNanos) {
                clients.computeIfAbsent(String.format(Locale.ROOT, "client %03d", op.getClient()), k -> new ArrayList<>()).add(op);
            }
        }
        Map<String, List<WatchRecord>> watchers = new TreeMap<>();
        for (WatchRecord w : history.watches()) {
            if (w.getNanos() >= fromNanos && w.getNanos() <= toNanos) {
                watchers.computeIfAbsent(String.format(Locale.ROOT, "watcher %03d", w.getWatcher()), k -> new ArrayList<>()).add(w);
            }
        }
        int lanes = clients.size() + watchers.size();
        int height = TOP + lanes * LANE + 30;
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns='http://www.w3.org/2000/svg' width='").append(WIDTH).append("' height='").append(height)
                .append("' font-family='monospace' font-size='11'>\n");
        for (FaultRecord f : history.faults()) {
            long end = f.getEndNanos() == 0 ? toNanos : f.getEndNanos();
            if (end < fromNanos || f.getStartNanos() > toNanos) {
                continue;
            }
            double x0 = x(Math.max(f.getStartNanos(), fromNanos), fromNanos, scale);
            double x1 = x(Math.min(end, toNanos), fromNanos, scale);
            String label = f.getKind() + " " + String.join(",", f.getTargetsList());
            svg.append(String.format(Locale.ROOT, "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='#fde9b0' opacity='0.6'>"
                    + "<title>%s</title></rect>\n", x0, TOP - 20, Math.max(1, x1 - x0), height - TOP + 20,
                    escape(label + " " + f.getDetail() + " [" + seconds(f.getStartNanos()) + "–" + seconds(end) + "]")));
            svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d'>%s</text>\n", x0 + 2, TOP - 8, escape(label)));
        }
        int lane = 0;
        for (Map.Entry<String, List<Operation>> e : clients.entrySet()) {
            int y = TOP + lane++ * LANE;
            svg.append(String.format(Locale.ROOT, "<text x='4' y='%d'>%s</text>\n", y + 12, escape(e.getKey())));
            for (Operation op : e.getValue()) {
                long end = op.getReturnNanos() == 0 ? toNanos : Math.min(op.getReturnNanos(), toNanos);
                double x0 = x(Math.max(op.getCallNanos(), fromNanos), fromNanos, scale);
                double x1 = x(end, fromNanos, scale);
                String color = op.hasResponse() ? "#5cb85c" : op.getDefinitelyFailed() ? "#d9534f" : "#999999";
                svg.append(String.format(Locale.ROOT, "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s' stroke='#333' "
                        + "stroke-width='0.3'><title>%s</title></rect>\n", x0, y + 2, Math.max(1.5, x1 - x0), LANE - 4, color,
                        escape(Describe.operation(op) + " @" + op.getMember() + " [" + seconds(op.getCallNanos()) + "–"
                                + (op.getReturnNanos() == 0 ? "never" : seconds(op.getReturnNanos())) + "]")));
            }
        }
        for (Map.Entry<String, List<WatchRecord>> e : watchers.entrySet()) {
            int y = TOP + lane++ * LANE;
            svg.append(String.format(Locale.ROOT, "<text x='4' y='%d'>%s</text>\n", y + 12, escape(e.getKey())));
            for (WatchRecord w : e.getValue()) {
                String color = w.hasError() ? "#d9534f" : w.hasCreate() ? "#337ab7" : "#555";
                svg.append(String.format(Locale.ROOT, "<rect x='%.1f' y='%d' width='2' height='%d' fill='%s'><title>%s</title></rect>\n",
                        x(w.getNanos(), fromNanos, scale), y + 2, LANE - 4, color,
                        escape(Describe.watch(w) + " @" + w.getMember() + " [" + seconds(w.getNanos()) + "]")));
            }
        }
        for (Mark m : marks) {
            if (m.nanos() < fromNanos || m.nanos() > toNanos) {
                continue;
            }
            double xm = x(m.nanos(), fromNanos, scale);
            svg.append(String.format(Locale.ROOT, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='red' stroke-width='2'>"
                    + "<title>%s</title></line>\n", xm, xm, TOP - 20, height - 20, escape(m.label())));
        }
        svg.append(String.format(Locale.ROOT, "<text x='%d' y='%d'>%s</text><text x='%d' y='%d' text-anchor='end'>%s</text>\n",
                LEFT, height - 6, seconds(fromNanos), WIDTH - 10, height - 6, seconds(toNanos)));
        svg.append("</svg>\n");
        StringBuilder page = new StringBuilder();
        page.append("<!doctype html>\n<html><head><meta charset='utf-8'><title>").append(escape(title))
                .append("</title></head><body style='font-family:sans-serif'>\n<h2>").append(escape(title)).append("</h2>\n<ul>\n");
        for (Mark m : marks) {
            page.append("<li>").append(seconds(m.nanos())).append(": ").append(escape(m.label())).append("</li>\n");
        }
        page.append("</ul>\n<p>Bars: green answered, red failed for certain, grey outcome unknown; yellow bands: faults; "
                + "red lines: violations. Hover for details.</p>\n");
        page.append(svg).append("</body></html>\n");
        return page.toString();
    }

    private static double x(long nanos, long fromNanos, double scale) {
        return LEFT + (nanos - fromNanos) * scale;
    }

    private static String seconds(long nanos) {
        return Describe.seconds(nanos);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;").replace("\"", "&quot;");
    }
}
