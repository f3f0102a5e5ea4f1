package io.pekkosocket.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pekkosocket.api.Body;
import io.pekkosocket.wire.Payload;
import io.pekkosocket.wire.Push;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON body of an API call, read the way the original Go services read theirs: keys match case-insensitively,
 * unknown keys are ignored, {@code null} counts as absent, and a value of the wrong type is an error
 * ({@link BadRequest}, answered 400).
 */
final class ApiRequest implements Body {
  /** The body could not be read as the operation's input: HTTP 400 with the message. */
  static final class BadRequest extends RuntimeException {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  private final Map<String, JsonNode> fields;
  /** A non-string {@code data}, as compact JSON with every number as written; null when data is a string or absent. */
  private final String rawData;
  /** A batch's commands, each read as a body of its own; null when the body has no {@code commands} array. */
  private final List<Body> commands;

  private ApiRequest(Map<String, JsonNode> fields, String rawData, List<Body> commands) {
    this.fields = fields;
    this.rawData = rawData;
    this.commands = commands;
  }

  private static final ApiRequest EMPTY = new ApiRequest(Map.of(), null, null);

  /**
   * Reads the body as a stream of tokens (the mapper's {@code StreamReadConstraints} on depth and number length
   * apply). A non-string {@code data} is copied token by token, numbers with their original text, so {@code 1e400}
   * or {@code 0.12345678901234567890} reach the client exactly as sent; every other field is read as a tree. The
   * objects of a top-level {@code commands} array (a batch) are read the same way, each as a body of its own.
   */
  static ApiRequest parse(byte[] body, ObjectMapper mapper) {
    if (isBlank(body)) return EMPTY;
    try (JsonParser p = mapper.createParser(body)) {
      JsonToken t = p.nextToken();
      if (t == null) return EMPTY;
      if (t != JsonToken.START_OBJECT) {
        p.readValueAsTree(); // invalid JSON is reported as such first
        throw new BadRequest("request body must be a JSON object");
      }
      return readObject(p, mapper, true);
    } catch (JsonProcessingException e) {
      throw new BadRequest("request body is not valid JSON");
    } catch (java.io.IOException e) {
      throw new BadRequest("request body could not be read");
    }
  }

  /** Reads the object whose START_OBJECT the parser is at; {@code top}: the body itself (only it has commands). */
  private static ApiRequest readObject(JsonParser p, ObjectMapper mapper, boolean top) throws java.io.IOException {
    Map<String, JsonNode> fields = new HashMap<>();
    String rawData = null;
    List<Body> commands = null;
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String key = p.currentName().toLowerCase(Locale.ROOT);
      JsonToken value = p.nextToken();
      if (key.equals("data") && value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL) {
        rawData = copy(p, mapper);
        fields.remove(key);
      } else if (top && key.equals("commands") && value == JsonToken.START_ARRAY) {
        commands = new ArrayList<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
          if (t == null) throw new BadRequest("request body is not valid JSON");
          if (t == JsonToken.START_OBJECT) {
            commands.add(readObject(p, mapper, false));
          } else {
            p.skipChildren();
            commands.add(null); // not an object: that command fails alone
          }
        }
        fields.remove(key);
      } else {
        JsonNode node = p.readValueAsTree();
        fields.put(key, node);
        if (key.equals("data")) rawData = null; // the last duplicate wins
        if (key.equals("commands")) commands = null;
      }
    }
    if (t != JsonToken.END_OBJECT) throw new BadRequest("request body is not valid JSON");
    return new ApiRequest(fields, rawData, commands);
  }

  /** Copies the value at the parser's current token as compact JSON, numbers with their original text. */
  private static String copy(JsonParser p, ObjectMapper mapper) throws java.io.IOException {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = mapper.createGenerator(out)) {
      int depth = 0;
      JsonToken t = p.currentToken();
      while (true) {
        switch (t) {
          case START_OBJECT -> { g.writeStartObject(); depth++; }
          case END_OBJECT -> { g.writeEndObject(); depth--; }
          case START_ARRAY -> { g.writeStartArray(); depth++; }
          case END_ARRAY -> { g.writeEndArray(); depth--; }
          case FIELD_NAME -> g.writeFieldName(p.currentName());
          case VALUE_STRING -> g.writeString(p.getText());
          case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> g.writeNumber(p.getText());
          case VALUE_TRUE -> g.writeBoolean(true);
          case VALUE_FALSE -> g.writeBoolean(false);
          case VALUE_NULL -> g.writeNull();
          default -> throw new BadRequest("field data could not be read");
        }
        if (depth == 0) break;
        t = p.nextToken();
        if (t == null) throw new BadRequest("request body is not valid JSON");
      }
    }
    return out.toString();
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
  @Override
  public String string(String name) {
    JsonNode n = field(name);
    if (n == null) return "";
    if (!n.isTextual()) throw wrongType(name, n, "string");
    return n.textValue();
  }

  /** An integer field; 0 when absent. */
  long integer(String name) {
    return integer(name, 0);
  }

  /** An integer field; {@code absent} when absent. */
  @Override
  public long integer(String name, long absent) {
    JsonNode n = field(name);
    if (n == null) return absent;
    if (!n.isIntegralNumber() || !n.canConvertToLong()) throw wrongType(name, n, "int");
    return n.longValue();
  }

  /** An array of strings; null when absent. */
  @Override
  public List<String> strings(String name) {
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
    if (rawData != null) return new Payload.Raw(rawData);
    JsonNode n = field("data");
    if (n == null) return Payload.EMPTY;
    return new Payload.Text(n.textValue()); // only strings and nulls are kept as trees
  }

  @Override
  public List<Body> commands() {
    if (commands != null) return commands;
    JsonNode n = field("commands");
    if (n == null) return null;
    throw wrongType("commands", n, "[]object");
  }

  @Override
  public Push push() {
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
