package io.pekkosocket.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The durable registry of systems: an SQLite database under {@code socket.data-dir}, in WAL mode with
 * {@code synchronous=FULL}, so a register that returned has been fsynced and survives a crash. Its methods block
 * (disk IO): the Guardian calls them on the dedicated {@code socket.blocking-dispatcher}, never on its own thread.
 * In cluster mode this stays each node's local durable copy of the replicated registry.
 *
 * <p>Each system's row also holds its own signing key, if {@code rotate_system_key} gave it one, and the previous
 * key with the end of its grace (issue 9). The file holds secrets, so it and SQLite's {@code -wal} and {@code -shm}
 * companions are the owner's alone (0600): the main file is created 0600 before SQLite opens it, and SQLite creates
 * the companions with the main file's mode; files of an earlier version are tightened at open.
 */
public final class SystemStore implements AutoCloseable {
  public static final String FILE = "systems.db";

  /** The store cannot be opened or read: startup must stop, never go on with an empty registry. */
  public static final class StoreException extends Exception {
    public StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * A system's keys as stored; {@code previous} is null when there is none; {@code version} orders settings of the
   * keys (the newest wins across a cluster). Never printed with the keys.
   */
  public record Keys(String systemId, String current, String previous, long previousUntilMillis, long version) {
    @Override
    public String toString() {
      return "Keys[" + systemId + ", previous until " + previousUntilMillis + "]";
    }
  }

  /** The schema's version (PRAGMA user_version): 0 before issue 9, 1 with the key columns, 2 with key_version. */
  private static final int SCHEMA = 2;
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private final Path file;
  private final Connection db;

  private SystemStore(Path file, Connection db) {
    this.file = file;
    this.db = db;
  }

  public static SystemStore open(Path dataDir) throws StoreException {
    Path file = dataDir.resolve(FILE).toAbsolutePath();
    Connection db = null;
    try {
      Files.createDirectories(dataDir);
      ownerOnly(file);
      db = DriverManager.getConnection("jdbc:sqlite:" + file);
      try (Statement st = db.createStatement()) {
        st.execute("PRAGMA journal_mode=WAL");
        st.execute("PRAGMA synchronous=FULL");
        try (ResultSet rs = st.executeQuery("PRAGMA quick_check")) {
          String verdict = rs.next() ? rs.getString(1) : "no answer";
          if (!"ok".equals(verdict)) throw new SQLException("integrity check failed: " + verdict);
        }
        st.execute("CREATE TABLE IF NOT EXISTS systems (system_id TEXT PRIMARY KEY, registered_at INTEGER NOT NULL)");
        migrate(db, st);
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM systems")) {
          rs.next();
        }
      }
      return new SystemStore(file, db);
    } catch (SQLException | IOException | RuntimeException e) {
      closeQuietly(db);
      throw new StoreException("the system registry " + file + " is unreadable or corrupt (" + e.getMessage()
          + "); refusing to start with an empty registry. Restore the file from a backup or move it away.", e);
    }
  }

  /**
   * The main file exists and is 0600 before SQLite opens it (SQLite gives -wal and -shm the main file's mode); the
   * files of a registry written by an earlier version are tightened.
   */
  private static void ownerOnly(Path file) throws IOException {
    if (Files.notExists(file)) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    }
    for (String suffix : new String[] {"", "-wal", "-shm", "-journal"}) {
      Path p = file.resolveSibling(file.getFileName() + suffix);
      if (Files.exists(p)) Files.setPosixFilePermissions(p, OWNER_ONLY);
    }
  }

  /** Brings a registry of an earlier version to {@link #SCHEMA}, in one transaction. */
  private static void migrate(Connection db, Statement st) throws SQLException {
    int version;
    try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
      version = rs.next() ? rs.getInt(1) : 0;
    }
    if (version >= SCHEMA) return;
    db.setAutoCommit(false);
    try {
      if (version < 1) {
        st.execute("ALTER TABLE systems ADD COLUMN signing_key TEXT");
        st.execute("ALTER TABLE systems ADD COLUMN previous_key TEXT");
        st.execute("ALTER TABLE systems ADD COLUMN previous_until INTEGER NOT NULL DEFAULT 0");
      }
      // when the signing key was last set (ms): in cluster mode the newest setting wins on every node
      st.execute("ALTER TABLE systems ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0");
      st.execute("PRAGMA user_version = " + SCHEMA);
      db.commit();
    } catch (SQLException e) {
      db.rollback();
      throw e;
    } finally {
      db.setAutoCommit(true);
    }
  }

  public synchronized List<String> loadAll() throws StoreException {
    try (Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT system_id FROM systems ORDER BY registered_at, system_id")) {
      List<String> out = new ArrayList<>();
      while (rs.next()) out.add(rs.getString(1));
      return out;
    } catch (SQLException e) {
      throw new StoreException("the system registry " + file + " could not be read: " + e.getMessage(), e);
    }
  }

  /** Stores a system durably; returns false when it was already stored. Blocks until the write is synced. */
  public synchronized boolean insert(String systemId) throws SQLException {
    try (PreparedStatement ps =
             db.prepareStatement("INSERT OR IGNORE INTO systems (system_id, registered_at) VALUES (?, ?)")) {
      ps.setString(1, systemId);
      ps.setLong(2, System.currentTimeMillis());
      return ps.executeUpdate() == 1;
    }
  }

  /** The keys of every system that has one. */
  public synchronized Map<String, Keys> loadKeys() throws StoreException {
    try (Statement st = db.createStatement();
         ResultSet rs = st.executeQuery(
             "SELECT system_id, signing_key, previous_key, previous_until, key_version FROM systems "
                 + "WHERE signing_key IS NOT NULL")) {
      Map<String, Keys> out = new HashMap<>();
      while (rs.next()) {
        out.put(rs.getString(1),
            new Keys(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5)));
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("the system registry " + file + " could not be read: " + e.getMessage(), e);
    }
  }

  /**
   * Makes {@code key} the system's signing key; its key until now becomes the previous one, verifying until
   * {@code nowMillis + graceMillis} (an older previous key is dropped). Returns the keys as stored, or null when the
   * system is not registered. Blocks until the write is synced.
   */
  public synchronized Keys rotateKey(String systemId, String key, long nowMillis, long graceMillis)
      throws SQLException {
    long until = nowMillis + graceMillis;
    try (PreparedStatement ps = db.prepareStatement("UPDATE systems SET previous_key = signing_key, "
        + "previous_until = CASE WHEN signing_key IS NULL THEN 0 ELSE ? END, signing_key = ?, "
        + "key_version = MAX(key_version + 1, ?) WHERE system_id = ?")) {
      ps.setLong(1, until);
      ps.setString(2, key);
      ps.setLong(3, nowMillis);
      ps.setString(4, systemId);
      if (ps.executeUpdate() != 1) return null;
    }
    try (PreparedStatement ps = db.prepareStatement(
        "SELECT signing_key, previous_key, previous_until, key_version FROM systems WHERE system_id = ?")) {
      ps.setString(1, systemId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Keys(systemId, rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4));
      }
    }
  }

  /**
   * Cluster mode: stores a system learned from another node, with its keys when it has some ({@code keys} may be
   * null), unless this store holds newer keys already. Blocks until the write is synced.
   */
  public synchronized void mirror(String systemId, Keys keys) throws SQLException {
    insert(systemId);
    if (keys == null || keys.current() == null) return;
    try (PreparedStatement ps = db.prepareStatement("UPDATE systems SET signing_key = ?, previous_key = ?, "
        + "previous_until = ?, key_version = ? WHERE system_id = ? AND key_version < ?")) {
      ps.setString(1, keys.current());
      ps.setString(2, keys.previous());
      ps.setLong(3, keys.previousUntilMillis());
      ps.setLong(4, keys.version());
      ps.setString(5, systemId);
      ps.setLong(6, keys.version());
      ps.executeUpdate();
    }
  }

  /**
   * Reads back {@code synchronous} or {@code journal_mode} on this store's own connection (tests: kill -9 cannot
   * tell a missing fsync from a real one). Blocks.
   */
  synchronized String pragma(String name) throws SQLException {
    if (!name.equals("synchronous") && !name.equals("journal_mode")) {
      throw new IllegalArgumentException("not a read-back pragma: " + name);
    }
    try (Statement st = db.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  public Path file() {
    return file;
  }

  @Override
  public synchronized void close() {
    closeQuietly(db);
  }

  private static void closeQuietly(Connection c) {
    if (c == null) return;
    try {
      c.close();
    } catch (SQLException ignored) {
      // closing after a failure: nothing more to do
    }
  }
}
