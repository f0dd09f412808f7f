using Microsoft.Extensions.Logging;
using MimeKit.Cryptography;

namespace MailCluster.Edge.Dkim;

/// <summary>
/// One configured key and its <see cref="DkimSigner"/>. The file is checked at most once per
/// <see cref="RecheckInterval"/> when a message is signed (as <c>CertificateProvider</c> does for TLS), and a changed
/// file is loaded. "Changed" is judged on the file the path finally resolves to, its timestamp and its length:
/// Kubernetes rotates a mounted Secret by swapping the <c>..data</c> symlink to a new directory, so the path's own
/// link never changes and the new file may carry any timestamp. A replacement that fails to load
/// keeps the previous key and logs an error; the start-up check (<see cref="DkimKeyFile.Load"/>) has already refused
/// a node whose key was bad from the beginning.
/// </summary>
public sealed partial class DkimKeySource
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger;
    private readonly DkimMetrics _metrics;
    private readonly Lock _gate = new();
    private DkimSigner _signer;
    private FileStamp _loadedStamp;
    private DateTime _nextCheck;

    /// <exception cref="DkimKeyException">The key cannot be used.</exception>
    public DkimKeySource(string domain, string selector, string keyPath, DkimSignatureAlgorithm algorithm, ILogger logger, DkimMetrics? metrics = null)
    {
        _metrics = metrics ?? DkimMetrics.Detached;
        Domain = domain;
        Selector = selector;
        KeyPath = keyPath;
        Algorithm = algorithm;
        _logger = logger;
        _loadedStamp = FileStamp.Of(keyPath);
        _signer = NewSigner();
        _nextCheck = DateTime.UtcNow + RecheckInterval;
    }

    public string Domain { get; }

    public string Selector { get; }

    public string KeyPath { get; }

    public DkimSignatureAlgorithm Algorithm { get; }

    /// <summary>The signer for the key on disk now (within <see cref="RecheckInterval"/>).</summary>
    public DkimSigner Signer
    {
        get
        {
            lock (_gate)
            {
                var now = DateTime.UtcNow;
                if (now >= _nextCheck)
                {
                    _nextCheck = now + RecheckInterval;
                    ReloadIfChanged();
                }

                return _signer;
            }
        }
    }

    private void ReloadIfChanged()
    {
        var stamp = FileStamp.Of(KeyPath);
        if (stamp == _loadedStamp)
        {
            return;
        }

        try
        {
            _signer = NewSigner();
            _loadedStamp = stamp;
            _metrics.CountReload(Domain, loaded: true);
            LogReloaded(_logger, KeyPath, Selector, Domain);
        }
        catch (DkimKeyException ex)
        {
            // Not retried until the file changes again: a half-written file is replaced by a whole one, which changes it.
            _loadedStamp = stamp;
            _metrics.CountReload(Domain, loaded: false);
            LogReloadFailed(_logger, ex, KeyPath);
        }
    }

    private DkimSigner NewSigner()
    {
        var key = DkimKeyFile.Load(KeyPath, Algorithm);
        DkimSigner signer = key is Org.BouncyCastle.Crypto.Parameters.RsaPrivateCrtKeyParameters rsa
            ? new NativeRsaDkimSigner(rsa, Domain, Selector)
            : new DkimSigner(key, Domain, Selector, Algorithm);

        // RFC 6376 §3.4: relaxed survives the header refolding and whitespace changes of relays; simple does not.
        signer.HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        signer.BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        return signer;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded DKIM key {Path} (selector {Selector}, domain {Domain})")]
    private static partial void LogReloaded(ILogger logger, string path, string selector, string domain);

    [LoggerMessage(Level = LogLevel.Error, Message = "Loading DKIM key {Path} failed; keeping the previous key")]
    private static partial void LogReloadFailed(ILogger logger, Exception ex, string path);
}

/// <summary>What identifies a version of a key file: the file its path resolves to (through every symlink), its
/// modification time and its length. A missing file has an empty stamp.</summary>
internal readonly record struct FileStamp(string Target, DateTime Modified, long Length)
{
    public static FileStamp Of(string path)
    {
        try
        {
            var target = new FileInfo(RealPath(path));
            return target.Exists ? new FileStamp(target.FullName, target.LastWriteTimeUtc, target.Length) : default;
        }
        catch (IOException)
        {
            return default;
        }
    }

    /// <summary>The path with every symlink resolved, in directory components too (as realpath(3)): Kubernetes' link
    /// is <c>..data</c>, a directory, so resolving only the last component would never see a rotation.</summary>
    internal static string RealPath(string path)
    {
        var pending = new Queue<string>(Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries));
        var current = "/";
        for (var links = 0; pending.TryDequeue(out var part);)
        {
            var next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is { } target && ++links <= 40)
            {
                // The rest of the path is resolved again below the link's target.
                var resolved = Path.GetFullPath(target, current);
                var rest = pending.ToArray();
                pending.Clear();
                foreach (var p in resolved.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest))
                {
                    pending.Enqueue(p);
                }

                current = "/";
                continue;
            }

            current = next;
        }

        return current;
    }
}
