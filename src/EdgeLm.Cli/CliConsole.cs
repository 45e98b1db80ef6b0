using System.Text.Encodings.Web;
using System.Text.Json;

namespace EdgeLm.Cli;

/// <summary>
/// Where a verb reads and writes: human text or one JSON object to standard output, diagnostics to standard error,
/// and standard input for the interactive <c>chat</c>.
/// </summary>
public sealed class CliConsole(TextWriter output, TextWriter error, TextReader? input = null)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Logits may be infinite for masked tokens; write them as JSON strings rather than failing.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Standard output.</summary>
    public TextWriter Output { get; } = output;

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; } = error;

    /// <summary>Standard input (for interactive verbs).</summary>
    public TextReader Input { get; } = input ?? TextReader.Null;

    /// <summary>Writes <paramref name="value"/> as one line of JSON to standard output.</summary>
    public void WriteJson(object value) => Output.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Serializes a single value to a JSON string (for JSON-lines output).</summary>
    public static string ToJson(object value) => JsonSerializer.Serialize(value, JsonOptions);
}
