using System.CommandLine;
using EdgeLm.Gguf;

namespace EdgeLm.Cli.Commands;

/// <summary><c>edgelm inspect</c>: a GGUF file's metadata and tensor table.</summary>
internal static class InspectCommand
{
    private const int ShownArrayItems = 8;

    public static Command Create(CliConsole console)
    {
        var json = CommonOptions.Json();
        var path = new Argument<string?>("MODEL") { Description = "GGUF file (default: the bundled model)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("inspect", "Show a GGUF file's metadata and tensors.") { json, path };
        command.SetAction(parse =>
        {
            string file = CommonOptions.ResolveModel(parse.GetValue(path));
            using var gguf = GgufFile.Open(file);
            if (parse.GetValue(json))
            {
                var metadata = new Dictionary<string, object?>();
                foreach (var (key, value) in gguf.MetadataInOrder)
                    metadata[key] = ToPlain(value, int.MaxValue);
                var tensors = gguf.Tensors.Select(t => new { name = t.Name, type = t.Type.ToString(), shape = t.Dimensions });
                console.WriteJson(new { metadata, tensors });
                return EdgeLmCli.Success;
            }
            console.Output.WriteLine($"{file}: GGUF v{gguf.Version}, {gguf.MetadataInOrder.Count} metadata keys, {gguf.Tensors.Count} tensors, alignment {gguf.Alignment}");
            foreach (var (key, value) in gguf.MetadataInOrder)
                console.Output.WriteLine($"  {key} = {Describe(value)}");
            long bytes = 0;
            foreach (var t in gguf.Tensors)
            {
                console.Output.WriteLine($"  {t.Name,-32} {t.Type,-6} [{string.Join(", ", t.Dimensions)}]");
                bytes += t.ByteSize;
            }
            console.Output.WriteLine($"tensor data: {bytes:N0} bytes, {gguf.Tensors.Sum(t => t.ElementCount):N0} parameters");
            return EdgeLmCli.Success;
        });
        return command;
    }

    private static string Describe(GgufValue value)
    {
        if (value.Type != GgufValueType.Array)
            return CliConsole.ToJson(ToPlain(value, 0)!);
        var array = value.AsArray();
        var shown = Enumerable.Range(0, Math.Min(array.Count, ShownArrayItems)).Select(i => CliConsole.ToJson(ToPlain(array[i], ShownArrayItems)!));
        string more = array.Count > ShownArrayItems ? ", ..." : "";
        return $"{array.ElementType}[{array.Count}] [{string.Join(", ", shown)}{more}]";
    }

    /// <summary>A GGUF value as plain .NET values the JSON serializer writes naturally.</summary>
    private static object? ToPlain(GgufValue value, int maxItems) => value.Type switch
    {
        GgufValueType.String => value.AsString(),
        GgufValueType.Bool => value.AsBool(),
        GgufValueType.Float32 or GgufValueType.Float64 => value.ToDouble(),
        GgufValueType.UInt64 => value.ToDouble() > long.MaxValue ? value.ToDouble() : value.ToInt64(),
        GgufValueType.Array => ArrayToPlain(value.AsArray(), maxItems),
        _ => value.ToInt64(),
    };

    private static List<object?> ArrayToPlain(GgufArray array, int maxItems)
    {
        var items = new List<object?>(Math.Min(array.Count, maxItems));
        for (int i = 0; i < array.Count && i < maxItems; i++)
            items.Add(ToPlain(array[i], maxItems));
        return items;
    }
}
