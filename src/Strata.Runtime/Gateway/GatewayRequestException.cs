namespace Strata.Runtime.Gateway;

/// <summary>A request the gateway refuses, with the HTTP status and the fields of OpenAI's error object.</summary>
internal sealed class GatewayRequestException : Exception
{
    public GatewayRequestException(string message, string? param, string? code, int statusCode = 400, string type = "invalid_request_error")
        : base(message)
    {
        Param = param;
        Code = code;
        StatusCode = statusCode;
        Type = type;
    }

    /// <summary>The request field at fault (<c>max_tokens</c>, <c>messages[0].role</c>), or null.</summary>
    public string? Param { get; }

    /// <summary>A machine-readable reason (<c>invalid_value</c>, <c>model_not_found</c>), or null.</summary>
    public string? Code { get; }

    /// <summary>The HTTP status to answer with.</summary>
    public int StatusCode { get; }

    /// <summary>OpenAI's error type (<c>invalid_request_error</c> for every 400).</summary>
    public string Type { get; }
}
