using System.Security.Authentication;

namespace MailCluster.Edge;

internal static class TlsNames
{
    /// <summary>The protocol as written in Received headers and logs (RFC 8314 style "TLSv1.3").</summary>
    public static string Protocol(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };
}
