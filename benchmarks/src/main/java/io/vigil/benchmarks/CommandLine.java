package io.vigil.benchmarks;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Turns {@code --flag value}, {@code --flag=value} and bare switches into a flag→value map. */
final class CommandLine {
  /** Flags that take no value. */
  static final List<String> SWITCHES = List.of("quick", "secure", "help");

  private CommandLine() {}

  static Map<String, String> parse(String[] args, List<Flag> known) {
    Map<String, Flag> byName = new HashMap<>();
    known.forEach(flag -> byName.put(flag.name(), flag));
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "' (flags start with --)");
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (SWITCHES.contains(name)) {
        values.put(name, value == null ? "true" : value);
        continue;
      }
      if (!byName.containsKey(name)) {
        throw new IllegalArgumentException("unknown flag --" + name + " (see --help)");
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("--" + name + " needs a value");
        }
        value = args[++i];
      }
      values.put(name, value);
    }
    return values;
  }

  static String help(List<Flag> flags) {
    StringBuilder out = new StringBuilder("usage: benchmarks/run [--quick] [--secure] [--flag VALUE]...\n\n");
    out.append(String.format("  %-28s %s%n", "--quick", "small sizes and short rounds: done in under a minute"));
    out.append(String.format("  %-28s %s%n", "--secure", "both servers started with TLS (https, one throw-away CA) and "
        + "auth on (simple tokens); the clients use TLS and a token as a non-root user"));
    for (Flag flag : flags) {
      String def = flag.defaultValue() == null ? "" : " (default " + flag.defaultValue()
          + (flag.quickValue() == null ? "" : ", quick " + flag.quickValue()) + ")";
      out.append(String.format("  %-28s %s%s%n", "--" + flag.name(), flag.help(), def));
    }
    return out.toString();
  }
}
