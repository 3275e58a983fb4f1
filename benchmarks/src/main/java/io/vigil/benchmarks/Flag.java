package io.vigil.benchmarks;

/**
 * One command-line flag: {@code --name VALUE} (or {@code --name=VALUE}). {@code quickValue}, when
 * not null, replaces {@code defaultValue} under {@code --quick}; a value given explicitly always
 * wins. A null default means "not set".
 */
record Flag(String name, String defaultValue, String quickValue, String help) {

  static Flag of(String name, String defaultValue, String help) {
    return new Flag(name, defaultValue, null, help);
  }

  static Flag quick(String name, String defaultValue, String quickValue, String help) {
    return new Flag(name, defaultValue, quickValue, help);
  }

  String defaultFor(boolean quick) {
    return quick && quickValue != null ? quickValue : defaultValue;
  }
}
