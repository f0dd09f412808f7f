using System.Text.Json;
using MailCluster.Edge.Auth;
using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Http;

namespace MailCluster.Ops.Credentials;

/// <summary>Reading the users' and keys' request bodies: each wrong field is answered 400 with a problem naming it.</summary>
internal static class JsonFields
{
    public const int MaxNameLength = 100;
    public const int MaxListLength = 1_000;

    /// <summary>The body as a JSON object, or the 400 problem to answer.</summary>
    public static async Task<(JsonElement Body, IResult? Problem)> ReadObjectAsync(HttpRequest request, string shape, CancellationToken ct)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct).ConfigureAwait(false);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? (document.RootElement.Clone(), null)
                : (default, Bad($"the body must be a JSON object {shape}", "body"));
        }
        catch (JsonException ex)
        {
            return (default, Bad($"the body must be a JSON object {shape}: {ex.Message}", "body"));
        }
    }

    public static IResult Bad(string detail, string field) => ApiProblem.Result(StatusCodes.Status400BadRequest, detail, field);

    /// <summary>A name: 1..100 characters, no control characters, no surrounding white space.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && !name.Any(char.IsControl) && name.Trim().Length == name.Length;

    /// <summary>An optional string field: (null, null) when absent; a problem when present but not a string.</summary>
    public static (string? Value, IResult? Problem) OptionalString(JsonElement body, string field) =>
        !body.TryGetProperty(field, out var e) || e.ValueKind == JsonValueKind.Null ? (null, null)
        : e.ValueKind == JsonValueKind.String ? (e.GetString(), null)
        : (null, Bad($"{field} must be a string", field));

    /// <summary>An optional positive integer (1..int.MaxValue) or null for "no limit".</summary>
    public static (int? Value, IResult? Problem) OptionalLimit(JsonElement body, string field) =>
        !body.TryGetProperty(field, out var e) || e.ValueKind == JsonValueKind.Null ? (null, null)
        : e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var n) && n >= 1 ? (n, null)
        : (null, Bad($"{field} must be a whole number of messages from 1 to {int.MaxValue}, or null for no limit", field));

    /// <summary>An optional array of strings: (null, null) when absent.</summary>
    public static (IReadOnlyList<string>? Value, IResult? Problem) OptionalStrings(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var e) || e.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() > MaxListLength || e.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
        {
            return (null, Bad($"{field} must be an array of at most {MaxListLength} strings", field));
        }

        return ([.. e.EnumerateArray().Select(x => x.GetString()!)], null);
    }

    /// <summary>Sender entries as <see cref="SenderAuthorization"/> reads them; the problem names the first bad one.</summary>
    public static IResult? CheckSenders(IReadOnlyList<string> senders, string field)
    {
        var bad = senders.Select((s, i) => (s, i)).FirstOrDefault(x => !SenderAuthorization.IsValidEntry(x.s));
        return bad.s is null ? null
            : Bad($"{field}[{bad.i}] '{bad.s}' is neither an address (user@example.com) nor a domain (example.com or @example.com)", field);
    }
}
