namespace MailCluster.Host.Configuration;

/// <summary>Spells a configuration key both ways an operator meets it.</summary>
public static class ConfigurationKeys
{
    /// <summary><c>MailCluster:Smtp:MxPort</c> → <c>MailCluster:Smtp:MxPort (environment: MailCluster__Smtp__MxPort)</c>.</summary>
    public static string Describe(string key) => $"{key} (environment: {key.Replace(":", "__", StringComparison.Ordinal)})";
}

/// <summary>Thrown at start when the configuration is invalid; the message names every bad key.</summary>
public sealed class ConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
