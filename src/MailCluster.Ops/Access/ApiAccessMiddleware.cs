using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace MailCluster.Ops.Access;

/// <summary>
/// The access check of every <c>/api/</c> request, after routing (the matched endpoint names the role it needs):
/// <list type="number">
/// <item>a valid <c>Authorization: Bearer &lt;token&gt;</c> header, else 401 (no cookie or other credential is ever
/// read, so a page in the operator's browser cannot act through a port-forward: it cannot set that header on a
/// cross-site request without a CORS preflight, which the API never grants);</item>
/// <item>an address that sent too many bad tokens gets 429 (<see cref="BadTokenThrottle"/>) unless its token is valid;</item>
/// <item>an unknown route gets a 404 problem (after authentication, so routes are not probed anonymously);</item>
/// <item>a token below the route's role gets 403.</item>
/// </list>
/// Every mutating call (any method but GET and HEAD) that reaches here writes one audit record, category
/// <c>MailCluster.Ops.Audit</c>: token id and name, method and route, target (the route's values), and the status.
/// </summary>
public sealed partial class ApiAccessMiddleware(RequestDelegate next, TokenSet tokens, BadTokenThrottle throttle, ILoggerFactory loggers)
{
    /// <summary>HttpContext.Items key of the caller's <see cref="TokenIdentity"/>.</summary>
    public const string IdentityKey = "MailCluster.Ops.Token";

    /// <summary>HttpContext.Items key a handler may set to name its target in the audit record (e.g. a new token's id).</summary>
    public const string AuditTargetKey = "MailCluster.Ops.AuditTarget";

    private const string MethodNotAllowedEndpoint = "405 HTTP Method Not Supported";

    private readonly ILogger audit = loggers.CreateLogger("MailCluster.Ops.Audit");

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var address = context.Connection.RemoteIpAddress ?? IPAddress.None;
        var (identity, problem) = Authenticate(context.Request.Headers.Authorization);
        if (identity is null && problem != MissingToken)
        {
            throttle.Failed(address);
        }

        if (identity is null)
        {
            if (throttle.RetryAfter(address) is { } wait)
            {
                context.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await Deny(context, null, StatusCodes.Status429TooManyRequests, "too many bad tokens from this address; try again later", "Authorization").ConfigureAwait(false);
                return;
            }

            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Deny(context, null, StatusCodes.Status401Unauthorized, problem!, "Authorization").ConfigureAwait(false);
            return;
        }

        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            await Deny(context, identity, StatusCodes.Status404NotFound, $"no route {context.Request.Method} {context.Request.Path}", null).ConfigureAwait(false);
            return;
        }

        if (endpoint.DisplayName == MethodNotAllowedEndpoint)
        {
            await Deny(context, identity, StatusCodes.Status405MethodNotAllowed, $"{context.Request.Method} is not allowed on {context.Request.Path}", null).ConfigureAwait(false);
            return;
        }

        var required = endpoint.Metadata.GetMetadata<ApiRoleMetadata>()?.Role ?? ApiRole.Admin;
        if (identity.Role < required)
        {
            await Deny(context, identity, StatusCodes.Status403Forbidden, $"this route needs the role '{required.Name()}'; the token has '{identity.Role.Name()}'", "Authorization").ConfigureAwait(false);
            return;
        }

        context.Items[IdentityKey] = identity;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception) when (Audit(context, identity, StatusCodes.Status500InternalServerError))
        {
            throw; // never reached: the filter records the failure and lets the exception handler answer it
        }

        Audit(context, identity);
    }

    private const string MissingToken = "an 'Authorization: Bearer <token>' header is required";

    private (TokenIdentity? Identity, string? Problem) Authenticate(string? header)
    {
        const string scheme = "Bearer ";
        if (string.IsNullOrEmpty(header))
        {
            return (null, MissingToken);
        }

        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || header.Length == scheme.Length)
        {
            return (null, "the Authorization header must be 'Bearer <token>'");
        }

        return tokens.Find(header[scheme.Length..].Trim()) is { } identity
            ? (identity, null)
            : (null, "the token is unknown or revoked");
    }

    private async Task Deny(HttpContext context, TokenIdentity? identity, int status, string detail, string? field)
    {
        await ApiProblem.WriteAsync(context, status, detail, field).ConfigureAwait(false);
        Audit(context, identity);
    }

    /// <returns>Always false (so that it can run as an exception filter without catching).</returns>
    private bool Audit(HttpContext context, TokenIdentity? identity, int? status = null)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || !audit.IsEnabled(LogLevel.Information))
        {
            return false;
        }

        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "";
        var target = context.Items[AuditTargetKey] as string
            ?? string.Join(' ', context.Request.RouteValues.Select(v => $"{v.Key}={v.Value}"));
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "-";
        LogAudit(audit, identity?.Id ?? "-", identity?.Name ?? "-", context.Request.Method, route, target, status ?? context.Response.StatusCode, client);
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "audit: token={TokenId} name={TokenName} {Method} {Route} target={Target} status={Status} client={Client}")]
    private static partial void LogAudit(ILogger logger, string tokenId, string tokenName, string method, string route, string target, int status, string client);
}
