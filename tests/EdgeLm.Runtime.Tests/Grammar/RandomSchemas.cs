using System.Text.Json.Nodes;

namespace EdgeLm.Runtime.Tests.Grammar;

/// <summary>
/// Seeded random JSON Schemas over the subset the converter supports, nested at most <see cref="MaxDepth"/> deep:
/// objects (required and optional properties), arrays with item counts, strings with lengths, integers and numbers
/// with bounds (inclusive, exclusive, non-integral), booleans, null, enum, const, type lists, anyOf, oneOf (branches
/// of distinct types, so at most one can match), $ref to $defs (one recursive), open objects and maps, and required
/// names outside the declared properties.
/// </summary>
internal sealed class RandomSchemas(int seed)
{
    public const int MaxDepth = 3;

    private static readonly string[] Names = ["id", "name", "title", "count", "tags", "on", "room", "level", "note", "é", "a b", "q\"uote", "items", "x"];
    private static readonly string[] Words = ["on", "off", "kitchen", "héllo", "tab\there", "quote\"d", "back\\slash", "", "日本", "😀"];

    private readonly Random _random = new(seed);

    /// <summary>A new schema; the root is usually an object, like a response format.</summary>
    public JsonObject Next()
    {
        var defs = new JsonObject();
        bool withDefs = _random.Next(4) == 0;
        if (withDefs)
        {
            defs["leaf"] = Leaf();
            defs["node"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["v"] = new JsonObject { ["type"] = "integer", ["minimum"] = 0, ["maximum"] = 99 },
                    ["kids"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["$ref"] = "#/$defs/node" }, ["maxItems"] = 2 },
                },
                ["required"] = new JsonArray("v"),
            };
        }
        var root = _random.Next(5) == 0 ? Schema(1, withDefs) : Object(1, withDefs);
        if (withDefs)
            root["$defs"] = defs;
        return root;
    }

    private JsonObject Schema(int depth, bool withDefs)
    {
        int choice = _random.Next(depth >= MaxDepth ? 10 : 17);
        return choice switch
        {
            < 8 => Leaf(),
            8 => withDefs ? new JsonObject { ["$ref"] = _random.Next(2) == 0 ? "#/$defs/leaf" : "#/$defs/node" } : Leaf(),
            9 => new JsonObject { ["type"] = new JsonArray(Pick("string", "integer", "boolean"), "null") },
            10 or 11 or 12 => Object(depth + 1, withDefs),
            13 or 14 => Array(depth + 1, withDefs),
            15 => new JsonObject { ["anyOf"] = new JsonArray(Schema(depth + 1, withDefs), Schema(depth + 1, withDefs)) },
            _ => OneOf(depth + 1, withDefs),
        };
    }

    private JsonObject Leaf()
    {
        switch (_random.Next(9))
        {
            case 0:
            {
                var s = new JsonObject { ["type"] = "string" };
                if (_random.Next(2) == 0)
                {
                    int min = _random.Next(4);
                    s["minLength"] = min;
                    s["maxLength"] = min + _random.Next(10);
                }
                return s;
            }
            case 1:
                return new JsonObject { ["type"] = "string", ["description"] = "free text" };
            case 2:
                return Bounded("integer");
            case 3:
                return Bounded("number");
            case 4:
                return new JsonObject { ["type"] = "boolean" };
            case 5:
                return new JsonObject { ["type"] = "null" };
            case 6:
            {
                var values = new JsonArray();
                foreach (int _ in Enumerable.Range(0, _random.Next(1, 5)))
                    values.Add(EnumValue());
                return new JsonObject { ["enum"] = values };
            }
            case 7:
                return new JsonObject { ["const"] = EnumValue() };
            default:
                return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(Pick(Words), Pick(Words) + "!") };
        }
    }

    private JsonObject Bounded(string type)
    {
        var s = new JsonObject { ["type"] = type };
        int low = _random.Next(-50, 50);
        int span = _random.Next(0, 200);
        switch (_random.Next(6))
        {
            case 0: break;
            case 1: s["minimum"] = low; s["maximum"] = low + span; break;
            case 2: s["minimum"] = low; break;
            case 3: s["maximum"] = low; break;
            case 4: s["exclusiveMinimum"] = low; s["exclusiveMaximum"] = low + span + 2; break;
            default: s["minimum"] = low + 0.25; s["maximum"] = low + span + 1.5; break;
        }
        return s;
    }

    private JsonNode? EnumValue() => _random.Next(6) switch
    {
        0 => _random.Next(-100, 100),
        1 => _random.Next(2) == 0,
        2 => null,
        3 => new JsonArray(_random.Next(5), Pick(Words)),
        4 => new JsonObject { [Pick(Names)] = Pick(Words) },
        _ => Pick(Words),
    };

    private JsonObject Object(int depth, bool withDefs)
    {
        if (_random.Next(12) == 0)
            return _random.Next(2) == 0
                ? new JsonObject { ["type"] = "object" }
                : new JsonObject { ["type"] = "object", ["additionalProperties"] = Leaf() };
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (string name in Names.OrderBy(_ => _random.Next()).Take(_random.Next(1, 5)))
        {
            properties[name] = Schema(depth, withDefs);
            if (_random.Next(3) > 0)
                required.Add(name);
        }
        if (_random.Next(10) == 0)
            required.Add("undeclared"); // required but not in properties: any value
        var o = new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required };
        switch (_random.Next(6))
        {
            case 0: o["additionalProperties"] = false; break;
            case 1: o["additionalProperties"] = true; break; // written closed anyway
        }
        if (o["additionalProperties"] is JsonValue closed && !closed.GetValue<bool>())
            required.Remove(required.FirstOrDefault(r => (string?)r == "undeclared"));
        return o;
    }

    private JsonObject Array(int depth, bool withDefs)
    {
        var a = new JsonObject { ["type"] = "array", ["items"] = Schema(depth, withDefs) };
        int min = _random.Next(3);
        if (min > 0 || _random.Next(2) == 0)
            a["minItems"] = min;
        if (_random.Next(2) == 0)
            a["maxItems"] = min + _random.Next(4);
        return a;
    }

    // Branches of different types never match the same value, so "exactly one" holds whichever branch is taken.
    private JsonObject OneOf(int depth, bool withDefs)
    {
        var branches = new JsonArray();
        foreach (string type in new[] { "string", "integer", "boolean", "null", "object", "array" }.OrderBy(_ => _random.Next()).Take(_random.Next(2, 4)))
        {
            branches.Add(type switch
            {
                "object" => Object(MaxDepth, withDefs),
                "array" => new JsonObject { ["type"] = "array", ["items"] = Leaf(), ["maxItems"] = 2 },
                "integer" => Bounded("integer"),
                "string" => new JsonObject { ["type"] = "string", ["maxLength"] = _random.Next(1, 12) },
                _ => new JsonObject { ["type"] = type },
            });
        }
        return new JsonObject { ["oneOf"] = branches };
    }

    private T Pick<T>(params T[] items) => items[_random.Next(items.Length)];
}
