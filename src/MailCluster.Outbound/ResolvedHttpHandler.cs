using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace MailCluster.Outbound;

/// <summary>
/// The HTTPS client side of MTA-STS policy fetches and TLS-RPT report uploads: host names resolved through the
/// configured DNS servers (<see cref="MxResolver.ResolveHostAsync"/>; never the system resolver), addresses filtered
/// as MX addresses are (no private ones unless <c>AllowPrivateDestinations</c>), the certificate checked by
/// <see cref="CertificateTrust"/> for the host name, no redirects, no proxy, no cookies, connect time bounded.
/// </summary>
public static class ResolvedHttpHandler
{
    public static SocketsHttpHandler Create(MxResolver resolver, OutboundOptions options, CertificateTrust trust)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(trust);
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(options.MtaStsFetchTimeoutSeconds),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = async (context, ct) =>
            {
                var resolution = await resolver.ResolveHostAsync(context.DnsEndPoint.Host, ct).ConfigureAwait(false);
                var addresses = resolution.Targets
                    .SelectMany(t => AddressPolicy.Select(t.Addresses, options.AddressPreference, options.AllowPrivateDestinations)).ToList();
                if (addresses.Count == 0)
                {
                    throw new HttpRequestException($"{context.DnsEndPoint.Host}: no usable address {resolution.Text}".TrimEnd());
                }

                Exception? last = null;
                foreach (var address in addresses)
                {
                    var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch (SocketException e)
                    {
                        socket.Dispose();
                        last = e;
                    }
                }

                throw new HttpRequestException($"{context.DnsEndPoint.Host}: {last?.Message}", last);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    trust.Check(certificate, chain, errors) == CertificateVerdict.Valid,
            },
        };
    }
}
