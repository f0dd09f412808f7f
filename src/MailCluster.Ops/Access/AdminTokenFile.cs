namespace MailCluster.Ops.Access;

/// <summary>
/// The first admin token. With <c>MailCluster:Ops:AdminTokenFile</c> set (a mounted Secret in Kubernetes) the file's
/// content is the token. Without it, a node on the embedded default (SQLite) writes a new token into
/// <c>{DataDir}/admin.token</c> at its first start (mode 0600, created exclusively: an existing file is never
/// overwritten) and reads it at every start after, so a newcomer can use the API at once. The file is re-read at
/// every refresh, so replacing it (rotating the Secret) takes effect without a restart.
/// </summary>
public static class AdminTokenFile
{
    public const string DefaultFileName = "admin.token";

    /// <summary>Shorter content is refused: it cannot carry the 256 bits a token is meant to have.</summary>
    public const int MinimumLength = 32;

    /// <summary>Creates <paramref name="path"/> with a new secret unless it exists; true when it was created.</summary>
    public static bool CreateIfMissing(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(ApiTokens.NewSecret() + "\n");
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    /// <summary>The token in the file (surrounding white space removed), or why it cannot be used.</summary>
    public static (string? Token, string? Problem) Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot read {path}: {ex.Message}");
        }

        return text.Length < MinimumLength || text.Any(char.IsWhiteSpace)
            ? (null, $"{path} must hold one token of at least {MinimumLength} characters without spaces")
            : (text, null);
    }
}
