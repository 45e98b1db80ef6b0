using System.Text.Json.Nodes;

namespace EdgeLm.Server;

/// <summary>
/// A request that ends in an OpenAI-style error response:
/// <c>{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}</c> with an HTTP status.
/// </summary>
public sealed class ApiError(int status, string message, string type = ApiError.InvalidRequest, string? param = null, string? code = null)
    : Exception(message)
{
    /// <summary>OpenAI's error type for a bad request.</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>The HTTP status code.</summary>
    public int Status { get; } = status;

    /// <summary>OpenAI's error type (invalid_request_error, authentication_error, server_error, ...).</summary>
    public string Type { get; } = type;

    /// <summary>The request field at fault, or null.</summary>
    public string? Param { get; } = param;

    /// <summary>A machine-readable code (e.g. context_length_exceeded), or null.</summary>
    public string? Code { get; } = code;

    /// <summary>A 400 naming the field at fault.</summary>
    public static ApiError BadRequest(string message, string? param = null, string? code = null) => new(400, message, InvalidRequest, param, code);

    /// <summary>The error body.</summary>
    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = Message,
            ["type"] = Type,
            ["param"] = Param,
            ["code"] = Code,
        },
    };
}
