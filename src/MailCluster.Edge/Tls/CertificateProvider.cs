using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge.Tls;

/// <summary>
/// The server certificate for STARTTLS and implicit TLS. With PEM files configured, the files' timestamps
/// are checked at most once per <see cref="RecheckInterval"/> on a handshake, and a changed pair is loaded
/// (Kubernetes rotates mounted secrets in place); a pair that fails to load keeps the previous certificate
/// and logs an error. Without files, a self-signed certificate is generated once, with a warning.
/// </summary>
public sealed partial class CertificateProvider
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(5);

    private readonly string? _certificatePath;
    private readonly string? _keyPath;
    private readonly string _hostname;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private X509Certificate2? _current;
    private DateTime _loadedStamp;
    private DateTime _nextCheck;

    public CertificateProvider(string? certificatePath, string? keyPath, string hostname, ILogger logger)
    {
        _certificatePath = string.IsNullOrWhiteSpace(certificatePath) ? null : certificatePath;
        _keyPath = string.IsNullOrWhiteSpace(keyPath) ? null : keyPath;
        _hostname = hostname;
        _logger = logger;
    }

    public X509Certificate2 Current
    {
        get
        {
            lock (_gate)
            {
                if (_certificatePath is null || _keyPath is null)
                {
                    if (_current is null)
                    {
                        LogSelfSigned(_logger, _hostname);
                        _current = SelfSignedCertificate.Create(_hostname);
                    }

                    return _current;
                }

                var now = DateTime.UtcNow;
                if (_current is null || now >= _nextCheck)
                {
                    _nextCheck = now + RecheckInterval;
                    ReloadIfChanged();
                }

                return _current ?? throw new InvalidOperationException($"TLS certificate {_certificatePath} could not be loaded");
            }
        }
    }

    private void ReloadIfChanged()
    {
        var stamp = Max(File.GetLastWriteTimeUtc(_certificatePath!), File.GetLastWriteTimeUtc(_keyPath!));
        if (_current is not null && stamp == _loadedStamp)
        {
            return;
        }

        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(_certificatePath!, _keyPath);

            // Round-trip through PKCS#12 so that SslStream on Linux can use the private key.
            var loaded = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            _current = loaded;
            _loadedStamp = stamp;
            LogLoaded(_logger, _certificatePath!, loaded.Subject, loaded.NotAfter);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            LogLoadFailed(_logger, ex, _certificatePath!);
            if (_current is null)
            {
                throw;
            }
        }
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "No TLS certificate configured (MailCluster:Smtp:TlsCertificatePath): using a self-signed certificate for {Hostname}")]
    private static partial void LogSelfSigned(ILogger logger, string hostname);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded TLS certificate {Path}: {Subject}, valid until {NotAfter:u}")]
    private static partial void LogLoaded(ILogger logger, string path, string subject, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Error, Message = "Loading TLS certificate {Path} failed; keeping the previous one")]
    private static partial void LogLoadFailed(ILogger logger, Exception ex, string path);
}
