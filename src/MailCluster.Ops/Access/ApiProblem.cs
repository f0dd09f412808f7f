using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace MailCluster.Ops.Access;

/// <summary>
/// Errors of the ops API as RFC 7807 problem details (<c>application/problem+json</c>): <c>status</c>, <c>title</c>
/// (the reason phrase), <c>detail</c> (what is wrong, for a person) and, when one input is to blame, <c>field</c>
/// naming it (<c>domain</c>, <c>id</c>, <c>limit</c>, <c>name</c>, <c>role</c>, the <c>Authorization</c> header...).
/// </summary>
public static class ApiProblem
{
    public static IResult Result(int status, string detail, string? field = null) =>
        Results.Problem(
            detail: detail,
            statusCode: status,
            title: ReasonPhrases.GetReasonPhrase(status),
            extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });

    public static Task WriteAsync(HttpContext context, int status, string detail, string? field = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Result(status, detail, field).ExecuteAsync(context);
    }
}
