package io.pekkosocket.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pekkosocket.wire.Payload;
import io.pekkosocket.wire.Push;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON body of an API call, read the way the original Go services read theirs: keys match case-insensitively,
 * unknown keys are ignored, {@code null} counts as absent, and a value of the wrong type is an error
 * ({@link BadRequest}, answered 400).
 */
final class ApiRequest {
  /** The body could not be read as the operation's input: HTTP 400 with the message. */
  static final class BadRequest extends RuntimeException {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  private final Map<String, JsonNode> fields;
  private final ObjectMapper mapper;

  private ApiRequest(Map<String, JsonNode> fields, ObjectMapper mapper) {
    this.fields = fields;
    this.mapper = mapper;
  }

  static ApiRequest parse(byte[] body, ObjectMapper mapper) {
    if (isBlank(body)) return new ApiRequest(Map.of(), mapper);
    JsonNode root;
    try {
      root = mapper.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadRequest("request body is not valid JSON");
    } catch (java.io.IOException e) {
      throw new BadRequest("request body could not be read");
    }
    if (root == null || root.isMissingNode()) return new ApiRequest(Map.of(), mapper);
    if (!root.isObject()) throw new BadRequest("request body must be a JSON object");
    Map<String, JsonNode> fields = new HashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = root.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      fields.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue());
    }
    return new ApiRequest(fields, mapper);
  }

  private static boolean isBlank(byte[] body) {
    for (byte b : body) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') return false;
    }
    return true;
  }

  private JsonNode field(String name) {
    JsonNode n = fields.get(name.toLowerCase(Locale.ROOT));
    return n == null || n.isNull() ? null : n;
  }

  /** A string field; "" when absent. */
  String string(String name) {
    JsonNode n = field(name);
    if (n == null) return "";
    if (!n.isTextual()) throw wrongType(name, n, "string");
    return n.textValue();
  }

  /** An integer field; 0 when absent. */
  long integer(String name) {
    JsonNode n = field(name);
    if (n == null) return 0;
    if (!n.isIntegralNumber() || !n.canConvertToLong()) throw wrongType(name, n, "int");
    return n.longValue();
  }

  /** An array of strings; null when absent. */
  List<String> strings(String name) {
    JsonNode n = field(name);
    if (n == null) return null;
    if (!n.isArray()) throw wrongType(name, n, "[]string");
    List<String> out = new ArrayList<>(n.size());
    for (JsonNode e : n) {
      if (!e.isTextual()) throw wrongType(name, e, "[]string");
      out.add(e.textValue());
    }
    return out;
  }

  /** {@code data}: a JSON string stays a string, any other JSON value is kept as compact JSON text. */
  Payload payload() {
    JsonNode n = field("data");
    if (n == null) return Payload.EMPTY;
    if (n.isTextual()) return new Payload.Text(n.textValue());
    try {
      return new Payload.Raw(mapper.writeValueAsString(n));
    } catch (JsonProcessingException e) {
      throw new BadRequest("field data could not be encoded");
    }
  }

  Push push() {
    return new Push(string("sendUserId"), integer("code"), string("msg"), payload());
  }

  private static BadRequest wrongType(String name, JsonNode n, String expected) {
    return new BadRequest("field " + name + " must be of type " + expected + ", got " + kind(n));
  }

  private static String kind(JsonNode n) {
    if (n.isTextual()) return "string";
    if (n.isIntegralNumber()) return "integer";
    if (n.isNumber()) return "number";
    if (n.isBoolean()) return "boolean";
    if (n.isArray()) return "array";
    if (n.isObject()) return "object";
    return n.getNodeType().name().toLowerCase(Locale.ROOT);
  }
}
