using System.Text.Json;

namespace MailCluster.Cli;

/// <summary>
/// Where to send requests and with which token, from (first found wins) the flags, the environment
/// (<c>MAILCLUSTER_URL</c>, <c>MAILCLUSTER_TOKEN</c>) and the config file (<c>--config</c>, <c>MAILCLUSTER_CONFIG</c>,
/// or <c>~/.config/mailcluster/config.json</c>: <c>{"url": "...", "token": "..."}</c>).
/// </summary>
public sealed record Endpoint(Uri Url, string Token)
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static Endpoint Resolve(GlobalSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var file = ReadConfig(settings.Config ?? Environment.GetEnvironmentVariable("MAILCLUSTER_CONFIG"), explicitPath: settings.Config is not null);
        var url = First(settings.Url, Environment.GetEnvironmentVariable("MAILCLUSTER_URL"), file.Url) ?? DefaultUrl;
        var token = First(settings.Token, Environment.GetEnvironmentVariable("MAILCLUSTER_TOKEN"), file.Token)
            ?? throw new CliException(ExitCodes.Usage, "no token: pass --token, set MAILCLUSTER_TOKEN, or put \"token\" in the config file");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"'{url}' is not an http(s) URL");
        }

        return new Endpoint(uri, token);
    }

    private static string? First(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();

    private static (string? Url, string? Token) ReadConfig(string? path, bool explicitPath)
    {
        path ??= Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "mailcluster", "config.json");
        if (!File.Exists(path))
        {
            return explicitPath ? throw new CliException(ExitCodes.Usage, $"config file {path} does not exist") : (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            return (Text(root, "url"), Text(root, "token"));
        }
        catch (Exception ex) when (ex is JsonException or IOException or InvalidOperationException)
        {
            throw new CliException(ExitCodes.Usage, $"config file {path}: {ex.Message}");
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
