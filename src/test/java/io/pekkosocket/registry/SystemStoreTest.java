package io.pekkosocket.registry;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What kill -9 cannot show (DurabilityTest): the store's own connection really runs in WAL mode with
 * synchronous=FULL, so a register that answered has been fsynced, not just handed to the page cache.
 */
class SystemStoreTest {

  @Test
  void theStoresConnectionSyncsEveryCommitInWalMode() throws Exception {
    try (SystemStore store = SystemStore.open(Files.createTempDirectory("store-pragma"))) {
      assertEquals("2", store.pragma("synchronous"), "2 = FULL");
      assertEquals("wal", store.pragma("journal_mode"));
      assertTrue(store.insert("a"));
      assertEquals("2", store.pragma("synchronous"), "still FULL after a write");
    }
  }

  @Test
  void onlyTheReadBackPragmasAreAccepted() throws Exception {
    try (SystemStore store = SystemStore.open(Files.createTempDirectory("store-pragma"))) {
      assertThrows(IllegalArgumentException.class, () -> store.pragma("synchronous=OFF"));
    }
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  /** The file holds the systems' signing keys: it and SQLite's -wal and -shm companions are the owner's alone. */
  @Test
  void theDatabaseAndItsWalAndShmFilesAreCreated0600() throws Exception {
    Path dir = Files.createTempDirectory("store-modes");
    try (SystemStore store = SystemStore.open(dir)) {
      assertTrue(store.insert("a"));
      assertNotNull(store.rotateKey("a", "key-1", System.currentTimeMillis(), 0));
      for (String name : List.of("systems.db", "systems.db-wal", "systems.db-shm")) {
        assertTrue(Files.exists(dir.resolve(name)), name);
        assertEquals("rw-------", mode(dir.resolve(name)), name);
      }
    }
  }

  /** A registry written before issue 9 (no key columns, files 0644) is migrated in place and tightened to 0600. */
  @Test
  void anOldRegistryIsMigratedAndItsFilesTightened() throws Exception {
    Path dir = Files.createTempDirectory("store-migrate");
    Path file = dir.resolve(SystemStore.FILE);
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = db.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("CREATE TABLE systems (system_id TEXT PRIMARY KEY, registered_at INTEGER NOT NULL)");
      st.execute("INSERT INTO systems VALUES ('old', 1)");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }
    try (SystemStore store = SystemStore.open(dir)) {
      assertEquals(List.of("old"), store.loadAll());
      assertEquals(Map.of(), store.loadKeys());
      SystemStore.Keys keys = store.rotateKey("old", "key-1", 1000, 5000);
      assertEquals(new SystemStore.Keys("old", "key-1", null, 0, 1000), keys);
      assertEquals(new SystemStore.Keys("old", "key-2", "key-1", 7000, 2000), store.rotateKey("old", "key-2", 2000, 5000));
      assertNull(store.rotateKey("nobody", "key-3", 2000, 5000));
      for (String name : List.of("systems.db", "systems.db-wal", "systems.db-shm")) {
        assertEquals("rw-------", mode(dir.resolve(name)), name);
      }
    }
    try (SystemStore again = SystemStore.open(dir)) {
      assertEquals(Map.of("old", new SystemStore.Keys("old", "key-2", "key-1", 7000, 2000)), again.loadKeys());
      assertTrue(again.insert("new"));
      assertEquals(List.of("old", "new"), again.loadAll());
    }
  }
}
