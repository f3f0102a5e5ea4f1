package io.pekkosocket.http;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The per-address handshake limiter stays bounded whatever number of addresses it sees. */
class AddressLimiterTest {

  private static InetAddress address(int i) throws Exception {
    return InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
  }

  @Test
  void manyAddressesNeverGrowTheMapBeyondItsBound() throws Exception {
    AddressLimiter limiter = new AddressLimiter(5, 1000);
    for (int i = 0; i < 50_000; i++) assertTrue(limiter.tryAcquire(address(i)), "a fresh address has a full bucket");
    assertEquals(1000, limiter.size());
  }

  @Test
  void anIpv6HostCountsAsItsSlash64() throws Exception {
    AddressLimiter limiter = new AddressLimiter(2, 100);
    byte[] a = java.net.InetAddress.getByName("2001:db8:1:2::1").getAddress();
    for (int i = 0; i < 2; i++) {
      a[15] = (byte) (i + 1);
      assertTrue(limiter.tryAcquire(java.net.InetAddress.getByAddress(a)));
    }
    a[15] = 9;
    a[9] = 7; // another address of the same /64
    assertFalse(limiter.tryAcquire(java.net.InetAddress.getByAddress(a)), "the /64 has spent its budget");
    assertTrue(limiter.tryAcquire(java.net.InetAddress.getByName("2001:db8:1:3::1")), "another /64 has its own");
    assertEquals(2, limiter.size());
  }
}
