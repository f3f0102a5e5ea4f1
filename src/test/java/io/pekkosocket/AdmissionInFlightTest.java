package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class AdmissionInFlightTest {
  @Test
  void permitsUpToTheLimitCountingBatchesByTheirSize() {
    Admission admission = new Admission(3);
    assertNull(admission.of("s"), "no counter for a system that is not registered");
    admission.registered("s");
    Admission.InFlight s = admission.of("s");
    assertTrue(s.tryAcquire(2));
    assertFalse(s.tryAcquire(2), "a batch of 2 does not fit in the 1 left");
    assertTrue(s.tryAcquire(1));
    assertFalse(s.tryAcquire(1));
    s.release(2);
    assertTrue(s.tryAcquire(2));
    assertEquals(3, s.inFlight());
    admission.registered("s");
    assertSame(s, admission.of("s"), "registering again keeps the counter");
    admission.registered("t");
    assertTrue(admission.of("t").tryAcquire(3), "each system has its own limit");
  }

  @Test
  void zeroMeansUnlimited() {
    Admission admission = new Admission(0);
    admission.registered("s");
    for (int i = 0; i < 10_000; i++) assertTrue(admission.of("s").tryAcquire(1));
  }

  @Test
  void requestBytesAreBoundedTooAndComeBackWithTheirCommand() {
    Admission admission = new Admission(10, 1_000);
    admission.registered("s");
    Admission.InFlight s = admission.of("s");
    assertTrue(s.tryAcquire(1, 600));
    assertFalse(s.tryAcquire(1, 600), "600 more bytes do not fit in the 400 left");
    assertEquals(1, s.inFlight(), "a refusal for bytes takes no command permit either");
    assertTrue(s.tryAcquire(1, 400));
    s.release(1, 600);
    assertEquals(400, s.bytesInFlight());
    assertTrue(s.tryAcquire(1, 600));
  }
}
