using System.Text.Json;
using MailCluster.Queue.Suppression;

namespace MailCluster.Ops.Suppression;

/// <summary>The body of <c>POST /api/v1/suppressions</c>, checked field by field (each problem names its field).</summary>
public static class SuppressionRequest
{
    public static (SuppressionEntry? Entry, string? Problem, string? Field) Parse(JsonElement body, SuppressionOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, "the body must be a JSON object {\"address\", \"credential\"?, \"reason\"?, \"expiresAt\"? or \"expiryDays\"?}", "body");
        }

        var address = Text(body, "address");
        if (SuppressionEntry.AddressProblem(address) is { } addressProblem)
        {
            return (null, addressProblem, "address");
        }

        var credential = Text(body, "credential");
        if (credential is not null && (credential.Length is 0 or > SuppressionEntry.MaxCredentialLength || credential.Any(char.IsControl) || credential.StartsWith('*')))
        {
            return (null, $"credential must be an SMTP user name or API key id of 1 to {SuppressionEntry.MaxCredentialLength} characters (omit it for a global entry)", "credential");
        }

        var reason = Text(body, "reason") ?? "added by an operator";
        if (reason.Length > SuppressionEntry.MaxReasonLength || reason.Any(char.IsControl))
        {
            return (null, $"reason must be at most {SuppressionEntry.MaxReasonLength} characters, no control characters", "reason");
        }

        var expiresAt = now + options.Expiry;
        if (body.TryGetProperty("expiresAt", out var at))
        {
            if (at.ValueKind != JsonValueKind.String || !at.TryGetDateTimeOffset(out expiresAt) || expiresAt <= now)
            {
                return (null, "expiresAt must be an ISO 8601 time in the future", "expiresAt");
            }
        }
        else if (body.TryGetProperty("expiryDays", out var days))
        {
            if (days.ValueKind != JsonValueKind.Number || !days.TryGetInt32(out var d) || d is < 1 or > 3650)
            {
                return (null, "expiryDays must be a whole number from 1 to 3650", "expiryDays");
            }

            expiresAt = now.AddDays(d);
        }

        var source = Text(body, "source") ?? "api";
        if (source.Length > SuppressionEntry.MaxSourceLength)
        {
            return (null, $"source must be at most {SuppressionEntry.MaxSourceLength} characters", "source");
        }

        return (new SuppressionEntry(SuppressionEntry.Normalize(address!), credential, reason, source, now, expiresAt), null, null);
    }

    private static string? Text(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
