using MailCluster.Host.Configuration;
using Microsoft.Extensions.Configuration;

namespace MailCluster.Host.Tests;

/// <summary>Loads <see cref="NodeSettings"/> from the given keys only (no appsettings.json, no environment), as the
/// node does at start, and returns the errors it refuses to start with.</summary>
internal static class NodeSettingsTestConfig
{
    public static IReadOnlyList<string> Errors(IEnumerable<KeyValuePair<string, string?>> keys)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(keys).Build();
        try
        {
            NodeSettings.Load(configuration);
            return [];
        }
        catch (ConfigurationException ex)
        {
            return ex.Errors;
        }
    }

    public static IReadOnlyList<string> Errors(params (string Key, string Value)[] keys) =>
        Errors(keys.Select(k => new KeyValuePair<string, string?>(k.Key, k.Value)));
}
