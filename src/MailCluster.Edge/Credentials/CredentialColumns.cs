using System.Text.Json;

namespace MailCluster.Edge.Credentials;

/// <summary>How list columns are stored in both databases: a JSON array of strings (a storage format; do not change).</summary>
internal static class CredentialColumns
{
    public static string ToJson(IReadOnlyList<string> values) => JsonSerializer.Serialize(values);

    public static IReadOnlyList<string> FromJson(string json) => JsonSerializer.Deserialize<string[]>(json) ?? [];

    /// <summary>The unique key of a user name: ordinal, case-insensitive, as configured users are compared.</summary>
    public static string NameKey(string name) => name.ToUpperInvariant();
}
