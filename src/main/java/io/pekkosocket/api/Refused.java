package io.pekkosocket.api;

import io.pekkosocket.wire.ApiResult;

/** A request that breaks a rule ({@link Rules}): answered with {@link #answer()} before any actor is asked. */
public final class Refused extends RuntimeException {
  private final transient ApiResult<?> answer;

  Refused(ApiResult<?> answer) {
    super(answer.msg(), null, false, false);
    this.answer = answer;
  }

  public ApiResult<?> answer() {
    return answer;
  }
}
