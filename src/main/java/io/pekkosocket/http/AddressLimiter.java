package io.pekkosocket.http;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@link RateLimiter} per client address, for {@code socket.limits.handshakes-per-address}. The map is bounded:
 * beyond {@code maxAddresses} the least recently seen address is forgotten (a bucket unused for a second is full
 * again anyway, so forgetting it changes nothing; only more than {@code maxAddresses} addresses active within the
 * same second can reset each other, and that attack needs a front proxy, see docs/OPERATIONS.md). Thread-safe.
 */
final class AddressLimiter {
  static final int MAX_ADDRESSES = 16_384;

  private final int perSecond;
  private final Map<InetAddress, RateLimiter> buckets;

  AddressLimiter(int perSecond, int maxAddresses) {
    this.perSecond = perSecond;
    this.buckets = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<InetAddress, RateLimiter> eldest) {
        return size() > maxAddresses;
      }
    };
  }

  synchronized boolean tryAcquire(InetAddress address) {
    return buckets.computeIfAbsent(address, a -> new RateLimiter(perSecond)).tryAcquire();
  }

  synchronized int size() {
    return buckets.size();
  }
}
