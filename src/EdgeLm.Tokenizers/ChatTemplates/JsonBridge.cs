using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>Turns JSON (messages, tools, extra variables) into template values, as the reference engine converts
/// JavaScript objects: a number is an integer when it has no fractional part (so 2.0 in JSON is the integer 2).</summary>
internal static class JsonBridge
{
    public static Value ToValue(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return NullValue.Instance;
            case JsonObject obj:
            {
                var entries = new OrderedDictionary<string, Value>(obj.Count, StringComparer.Ordinal);
                foreach (var (key, value) in obj) entries[key] = ToValue(value);
                return new ObjectValue(entries);
            }
            case JsonArray array:
                return new ArrayValue(array.Select(ToValue).ToList());
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        return new StringValue(value.GetValue<string>());
                    case JsonValueKind.True:
                        return BooleanValue.True;
                    case JsonValueKind.False:
                        return BooleanValue.False;
                    case JsonValueKind.Null:
                        return NullValue.Instance;
                    case JsonValueKind.Number:
                    {
                        double d = double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                        return new NumberValue(d, JsText.IsInteger(d));
                    }
                }
                break;
        }
        throw new ArgumentException($"Unsupported JSON node kind {node.GetValueKind()} in chat template input.");
    }
}
