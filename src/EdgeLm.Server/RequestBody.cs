namespace EdgeLm.Server;

/// <summary>Reads a request's JSON body within the size limit Kestrel enforces (beyond it: HTTP 413).</summary>
internal static class RequestBody
{
    public static async Task<JsonFields> ReadAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        if (buffer.Length == 0)
            throw ApiError.BadRequest("The request has no body; send a JSON object.");
        return JsonFields.ParseBody(buffer.ToArray());
    }
}
