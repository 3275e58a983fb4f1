package io.vigil.benchmarks.measure;

/** The two servers a run compares. Ratios in the report are always {@code VIGIL / ETCD}. */
public enum Side {
  VIGIL("vigil"),
  ETCD("etcd");

  private final String label;

  Side(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  public static Side fromLabel(String label) {
    for (Side side : values()) {
      if (side.label.equals(label)) {
        return side;
      }
    }
    throw new IllegalArgumentException("unknown side '" + label + "' (expected vigil or etcd)");
  }
}
