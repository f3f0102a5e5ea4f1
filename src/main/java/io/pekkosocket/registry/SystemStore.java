package io.pekkosocket.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The durable registry of systems: an SQLite database under {@code socket.data-dir}, in WAL mode with
 * {@code synchronous=FULL}, so a register that returned has been fsynced and survives a crash. Its methods block
 * (disk IO): the Guardian calls them on the dedicated {@code socket.blocking-dispatcher}, never on its own thread.
 * In cluster mode this stays each node's local durable copy of the replicated registry.
 */
public final class SystemStore implements AutoCloseable {
  public static final String FILE = "systems.db";

  /** The store cannot be opened or read: startup must stop, never go on with an empty registry. */
  public static final class StoreException extends Exception {
    public StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }

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
      db = DriverManager.getConnection("jdbc:sqlite:" + file);
      try (Statement st = db.createStatement()) {
        st.execute("PRAGMA journal_mode=WAL");
        st.execute("PRAGMA synchronous=FULL");
        try (ResultSet rs = st.executeQuery("PRAGMA quick_check")) {
          String verdict = rs.next() ? rs.getString(1) : "no answer";
          if (!"ok".equals(verdict)) throw new SQLException("integrity check failed: " + verdict);
        }
        st.execute("CREATE TABLE IF NOT EXISTS systems (system_id TEXT PRIMARY KEY, registered_at INTEGER NOT NULL)");
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
