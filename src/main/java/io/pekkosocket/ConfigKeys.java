package io.pekkosocket;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The operator's surface of the {@code socket} namespace: which keys exist (those of the built-in defaults,
 * {@code socket-defaults.conf}), the environment variable of each (one rule, plus the names shipped before it as
 * aliases), the refusal of keys that do not exist, and the effective configuration as {@code check-config} prints
 * it.
 *
 * <p>The blocks under {@code socket} of the built-in defaults whose name ends in {@code -dispatcher} (e.g.
 * {@code socket.blocking-dispatcher}) are Pekko dispatcher configuration, not settings: they have no environment
 * variables, are not listed, and any key inside them may be set in the file or by {@code -D} (Pekko reads them).
 * Another block of that shape (a typo of one) is an unknown key like any other.
 */
public final class ConfigKeys {
  private ConfigKeys() {}

  /** The built-in defaults, where the list of keys comes from. */
  public static final String DEFAULTS = "socket-defaults.conf";

  /**
   * Names shipped before the rule, kept as documented aliases of the rule's names. When both are set they must
   * agree (else startup stops naming both).
   */
  public static final Map<String, String> ALIASES = Map.of(
      "SOCKET_JWT_SECRET", "socket.auth.jwt-secret",
      "SOCKET_WS_OUTBOUND_FRAMES", "socket.ws.outbound-buffer.frames",
      "SOCKET_WS_OUTBOUND_BYTES", "socket.ws.outbound-buffer.bytes",
      "SOCKET_HANDSHAKES_PER_ADDRESS", "socket.limits.handshakes-per-address",
      "SOCKET_CLUSTER_SEEDS", "socket.cluster.seed-nodes");

  /** {@code SOCKET_*} variables that are not settings but are read elsewhere: the {@code token} command's key. */
  static final Set<String> NOT_SETTINGS = Set.of("SOCKET_SYSTEM_KEY");

  /** Every setting under {@code socket} (dispatcher blocks excluded), sorted. */
  public static final List<String> KEYS;
  /** The keys whose value is a list: their environment variable takes a comma-separated value. */
  public static final Set<String> LIST_KEYS;
  /** Environment variable to key: the rule's name of every key, then the aliases. */
  public static final Map<String, String> ENV;

  /** The dispatcher blocks of the built-in defaults (exempt from the key list and the unknown-key check). */
  private static final Set<String> DISPATCHERS;

  static {
    ConfigObject defaults = ConfigFactory.parseResources(DEFAULTS).root().toConfig().getObject("socket");
    DISPATCHERS = Set.copyOf(defaults.keySet().stream().filter(n -> n.endsWith("-dispatcher")).toList());
    Map<String, ConfigValue> leaves = new TreeMap<>();
    leaves(defaults, "socket", leaves);
    KEYS = List.copyOf(leaves.keySet());
    Set<String> lists = new TreeSet<>();
    leaves.forEach((k, v) -> {
      if (v.valueType() == ConfigValueType.LIST) lists.add(k);
    });
    LIST_KEYS = Set.copyOf(lists);
    Map<String, String> env = new LinkedHashMap<>();
    for (String key : KEYS) {
      String previous = env.put(envName(key), key);
      if (previous != null) {
        throw new IllegalStateException(previous + " and " + key + " map to the same environment variable");
      }
    }
    new TreeMap<>(ALIASES).forEach((alias, key) -> {
      if (!KEYS.contains(key)) throw new IllegalStateException("alias " + alias + " of an unknown key " + key);
      if (env.put(alias, key) != null) throw new IllegalStateException("alias " + alias + " is another key's name");
    });
    for (String name : NOT_SETTINGS) {
      if (env.containsKey(name)) throw new IllegalStateException(name + " is both a setting's name and read elsewhere");
    }
    ENV = java.util.Collections.unmodifiableMap(env);
  }

  /** The rule: the key in upper case, {@code .} and {@code -} become {@code _}. */
  public static String envName(String key) {
    return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** Leaf paths (null values included) of {@code object}, skipping the known dispatcher blocks. */
  private static void leaves(ConfigObject object, String prefix, Map<String, ConfigValue> out) {
    object.forEach((name, value) -> {
      // a quoted name with a dot in it ("ws.idle-timeout" = …) is no key: keep it quoted so it is refused
      String path = prefix + "." + (name.contains(".") ? "\"" + name + "\"" : name);
      if (prefix.equals("socket") && DISPATCHERS != null && DISPATCHERS.contains(name)) return;
      if (value instanceof ConfigObject child) leaves(child, path, out);
      else out.put(path, value);
    });
  }

  /**
   * The configuration set by the environment variables of {@link #ENV} (blank values are ignored). Each value
   * carries its variable's name as its origin.
   *
   * @throws Settings.InvalidSetting when an alias and the rule's name both set a key, to different values
   */
  public static Config fromEnv(Map<String, String> env) {
    Config result = ConfigFactory.empty();
    Map<String, String> setBy = new TreeMap<>();
    // the rule's names first: ENV lists them before the aliases
    for (Map.Entry<String, String> e : ENV.entrySet()) {
      String raw = env.get(e.getKey());
      if (raw == null || raw.isBlank()) continue;
      String key = e.getValue();
      String other = setBy.putIfAbsent(key, e.getKey());
      if (other != null) {
        if (!env.get(other).equals(raw)) {
          throw new Settings.InvalidSetting(key + " is set by both " + other + " and " + e.getKey()
              + ", to different values: keep one");
        }
        continue;
      }
      Object value = LIST_KEYS.contains(key) ? splitList(raw) : raw;
      result = result.withFallback(ConfigFactory.parseMap(Map.of(key, value), "env " + e.getKey()));
    }
    return result;
  }

  /** A comma-separated list: elements trimmed, empty ones dropped. */
  static List<String> splitList(String raw) {
    return Arrays.stream(raw.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** {@code SOCKET_*} variables that are neither a rule name nor an alias (the server warns and ignores them). */
  public static List<String> unknownEnv(Map<String, String> env) {
    return env.keySet().stream()
        .filter(n -> n.startsWith("SOCKET_") && !ENV.containsKey(n) && !NOT_SETTINGS.contains(n))
        .sorted().toList();
  }

  /**
   * Refuses a key under {@code socket} that is not a setting (a typo must not be silently ignored).
   *
   * @throws Settings.InvalidSetting naming the first unknown key
   */
  public static void refuseUnknown(Config config) {
    if (!config.hasPath("socket")) return;
    Map<String, ConfigValue> given = new TreeMap<>();
    leaves(config.getObject("socket"), "socket", given);
    Set<String> known = Set.copyOf(KEYS);
    for (String key : given.keySet()) {
      if (!known.contains(key)) {
        throw new Settings.InvalidSetting("unknown setting " + key + " (" + given.get(key).origin().description()
            + "): not a key of pekko-socket; the keys are listed in config/application.conf");
      }
    }
  }

  /** Whether the key holds a secret: its value is never printed. */
  public static boolean isSecret(String key) {
    String last = key.substring(key.lastIndexOf('.') + 1);
    return Set.of("secret", "token", "password", "key").contains(last)
        || last.endsWith("-secret") || last.endsWith("-password") || last.endsWith("-key");
  }

  /** {@code check-config}'s lines: every key, its effective value (secrets masked) and where it came from. */
  public static List<String> describe(Config config) {
    int width = KEYS.stream().mapToInt(String::length).max().orElse(0);
    List<String> lines = new ArrayList<>();
    for (String key : KEYS) {
      ConfigValue v = valueAt(config, key);
      String value;
      if (v == null || v.valueType() == ConfigValueType.NULL) value = "null";
      else if (isSecret(key) && !String.valueOf(v.unwrapped()).isEmpty()) value = "<masked>";
      else value = v.render(ConfigRenderOptions.concise());
      String from = v == null ? "unset" : origin(v.origin());
      lines.add(String.format("%-" + width + "s = %s  # %s", key, value, from));
    }
    return lines;
  }

  /** The value at {@code key}, a null value included (which {@link Config#getValue} refuses); null when absent. */
  private static ConfigValue valueAt(Config config, String key) {
    ConfigValue v = config.root();
    for (String segment : com.typesafe.config.ConfigUtil.splitPath(key)) {
      if (!(v instanceof ConfigObject o) || !o.containsKey(segment)) return null;
      v = o.get(segment);
    }
    return v;
  }

  private static String origin(ConfigOrigin o) {
    String d = o.description();
    if (d.startsWith("env ")) return d;
    if (d.startsWith("system properties")) return "-D";
    if (DEFAULTS.equals(o.resource())) return "default";
    if (o.filename() != null) return o.filename() + (o.lineNumber() > 0 ? ":" + o.lineNumber() : "");
    return d;
  }
}
