package io.pekkosocket.wire;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Map;

/**
 * The response envelope of every HTTP API call, {@code {"code":…,"msg":"…","data":…}}, typed by what its
 * {@code data} is: one of the records below, {@link Empty} for {@code []}/{@code {}}, or (health) a string. An
 * error carries no data ({@code data()} is null) and is written with {@code "data":[]}, as the original services
 * write it. Actors answer API commands with the type their command declares ({@code api/Operation}), so callers,
 * tests and a later cluster merge read {@code data()} without casts.
 */
@JsonPropertyOrder({"code", "msg", "data", "partial", "missingNodes"})
public record ApiResult<T>(int code, String msg, @JsonIgnore T data,
    @JsonInclude(JsonInclude.Include.NON_NULL) List<String> missingNodes) {

  /** An answer every node contributed to (the only kind on a single node). */
  public ApiResult(int code, String msg, T data) {
    this(code, msg, data, null);
  }

  /**
   * Cluster mode: this answer without the part of the nodes named (they did not answer in time): written with
   * {@code "partial":true,"missingNodes":[…]} after {@code data}. No nodes: this answer, unchanged.
   */
  public ApiResult<T> missing(List<String> nodes) {
    return nodes == null || nodes.isEmpty() ? this : new ApiResult<>(code, msg, data, List.copyOf(nodes));
  }

  /** {@code true} when some node's part is missing; absent otherwise. */
  @JsonProperty("partial")
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public Boolean partial() {
    return missingNodes == null ? null : Boolean.TRUE;
  }

  public static final String SUCCESS = "success";
  public static final String NO_SYSTEM_ID = "系统ID不能为空";
  public static final String UNKNOWN_SYSTEM = "系统ID无效";
  public static final String DUPLICATE_SYSTEM = "该系统ID已被注册";

  /** Not run: too many commands in flight, or its deadline passed before it started. The route answers HTTP 503. */
  public static final ApiResult<Empty> BUSY = error("server busy, try again");
  /** A command started but its answer did not come within the grace: it may or may not have taken effect (504). */
  public static final ApiResult<Empty> OUTCOME_UNKNOWN = error("timed out; the command may have run");

  /** A push whose encoded frame is larger than a connection's outbound queue. The route answers HTTP 413. */
  public static final ApiResult<Empty> TOO_LARGE = error("payload too large");

  /** The data as written: an error's is {@code []}. */
  @JsonProperty("data")
  public Object written() {
    return data == null ? Empty.LIST : data;
  }

  public static <T> ApiResult<T> ok(T data) {
    return new ApiResult<>(0, SUCCESS, data);
  }

  /** Success with {@code "data":[]} (bind, unbind, register). */
  public static ApiResult<Empty> okEmptyList() {
    return ok(Empty.LIST);
  }

  /** Success with {@code "data":{}} (close_client). */
  public static ApiResult<Empty> okEmptyObject() {
    return ok(Empty.OBJECT);
  }

  /** An error, of any reply type: code -1, no data (written {@code []}). */
  public static <T> ApiResult<T> error(String msg) {
    return new ApiResult<>(-1, msg, null);
  }

  /** {@link #BUSY} as an answer of any type. */
  public static <T> ApiResult<T> busy() {
    return error(BUSY.msg());
  }

  /** {@link #OUTCOME_UNKNOWN} as an answer of any type. */
  public static <T> ApiResult<T> outcomeUnknown() {
    return error(OUTCOME_UNKNOWN.msg());
  }

  /** Go validator's message for a missing required field, e.g. {@code ClientId为必填字段}. */
  public static <T> ApiResult<T> required(String goFieldName) {
    return error(goFieldName + "为必填字段");
  }

  /** This error as an answer of another type (errors carry no data). */
  public <U> ApiResult<U> asError() {
    if (data != null) throw new IllegalStateException("not an error: " + this);
    return new ApiResult<>(code, msg, null);
  }

  /** The data of a reply that has none: {@code []} or {@code {}}. */
  public enum Empty {
    LIST(List.of()),
    OBJECT(Map.of());

    private final Object written;

    Empty(Object written) {
      this.written = written;
    }

    @JsonValue
    Object written() {
      return written;
    }
  }

  /** {@code send_to_client}. */
  @JsonPropertyOrder({"messageId", "delivered"})
  public record ClientDelivery(String messageId, boolean delivered) {}

  /** {@code send_to_clients}: one messageId per recipient, and how many queues accepted their frame. */
  @JsonPropertyOrder({"messageIds", "delivered"})
  public record ClientsDelivery(Map<String, String> messageIds, int delivered) {}

  /** {@code send_to_group} and {@code send_to_system}. */
  @JsonPropertyOrder({"messageId", "delivered"})
  public record FanOutDelivery(String messageId, int delivered) {}

  /** {@code rotate_system_key}: the system's new signing key, shown this once; {@code kid} is the systemId. */
  @JsonPropertyOrder({"systemId", "kid", "key"})
  public record KeyRotated(String systemId, String kid, String key) {
    @Override
    public String toString() {
      return "KeyRotated[" + systemId + ", key hidden]";
    }
  }

  /** {@code batch}: one envelope per command, in the order of the commands. */
  public record BatchResults(List<ApiResult<?>> results) {}

  /** {@code get_online_list}. */
  @JsonPropertyOrder({"count", "list"})
  public record OnlineList(int count, List<String> list) {}

  /** {@code get_all_groups}: each group's members, written as the bare map {@code {"<groupName>":[…],…}}. */
  public record AllGroups(@JsonValue Map<String, List<String>> groups) {
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public AllGroups(Map<String, List<String>> groups) {
      this.groups = groups;
    }
  }
}
