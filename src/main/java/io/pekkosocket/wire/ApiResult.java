package io.pekkosocket.wire;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Map;

/**
 * The response envelope of every HTTP API call: {@code {"code":…,"msg":"…","data":…}}. {@code data} is one of the
 * records below, an empty list ({@code []}) or an empty/string-keyed map.
 */
@JsonPropertyOrder({"code", "msg", "data"})
public record ApiResult(int code, String msg, Object data) {
  public static final String SUCCESS = "success";
  public static final String NO_SYSTEM_ID = "系统ID不能为空";
  public static final String UNKNOWN_SYSTEM = "系统ID无效";
  public static final String DUPLICATE_SYSTEM = "该系统ID已被注册";

  /** Not run: too many commands in flight, or its deadline passed before it started. The route answers HTTP 503. */
  public static final ApiResult BUSY = error("server busy, try again");
  /** A command started but its answer did not come within the grace: it may or may not have taken effect (504). */
  public static final ApiResult OUTCOME_UNKNOWN = error("timed out; the command may have run");

  /** A push whose encoded frame is larger than a connection's outbound queue. The route answers HTTP 413. */
  public static final ApiResult TOO_LARGE = error("payload too large");

  public static ApiResult ok(Object data) {
    return new ApiResult(0, SUCCESS, data);
  }

  public static ApiResult okEmptyList() {
    return ok(List.of());
  }

  public static ApiResult okEmptyObject() {
    return ok(Map.of());
  }

  public static ApiResult error(String msg) {
    return new ApiResult(-1, msg, List.of());
  }

  /** Go validator's message for a missing required field, e.g. {@code ClientId为必填字段}. */
  public static ApiResult required(String goFieldName) {
    return error(goFieldName + "为必填字段");
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
