using MailCluster.Queue.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailCluster.Outbound;

public static class OutboundServiceCollectionExtensions
{
    /// <summary>
    /// Binds <c>MailCluster:Outbound</c> and <c>MailCluster:Dns</c>, validates them at start-up (the error names the
    /// bad key), and registers <see cref="MxResolver"/> and <see cref="IDeliveryConnector"/> →
    /// <see cref="NextHopConnector"/> as singletons.
    /// </summary>
    public static IServiceCollection AddOutbound(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<OutboundOptions>()
            .Bind(configuration.GetSection(OutboundOptions.Section))
            .Validate(o => o.Port is > 0 and <= 65535, $"{OutboundOptions.Section}:Port must be 1-65535")
            .Validate(o => o.ConnectTimeoutSeconds > 0, $"{OutboundOptions.Section}:ConnectTimeoutSeconds must be positive")
            .Validate(o => o.CommandTimeoutSeconds > 0, $"{OutboundOptions.Section}:CommandTimeoutSeconds must be positive")
            .Validate(o => new[] { o.GreetingTimeoutSeconds, o.MailTimeoutSeconds, o.RcptTimeoutSeconds, o.DataStartTimeoutSeconds, o.DataBlockTimeoutSeconds, o.DataEndTimeoutSeconds }.All(t => t > 0),
                $"{OutboundOptions.Section}: every *TimeoutSeconds must be positive")
            .Validate(o => o.MaxConnectionsPerDomain > 0 && o.MessagesPerConnection > 0 && o.RatePerMinute >= 0 && o.ConnectionIdleSeconds > 0,
                $"{OutboundOptions.Section}: MaxConnectionsPerDomain, MessagesPerConnection and ConnectionIdleSeconds must be positive, RatePerMinute not negative")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<OutboundOptions>, DestinationOptionsValidator>();
        services.AddOptions<DnsOptions>()
            .Bind(configuration.GetSection(DnsOptions.Section))
            .Validate(o => o.TimeoutSeconds > 0, $"{DnsOptions.Section}:TimeoutSeconds must be positive")
            .Validate(o => o.Retries >= 0, $"{DnsOptions.Section}:Retries must not be negative")
            .Validate(o => o.Servers.TrueForAll(IsServer), $"{DnsOptions.Section}:Servers entries must be host, host:port or [v6]:port")
            .ValidateOnStart();
        services.AddSingleton(sp => new MxResolver(sp.GetRequiredService<IOptions<DnsOptions>>().Value));
        services.AddSingleton<IDeliveryConnector, NextHopConnector>();
        return services;
    }

    private static bool IsServer(string value)
    {
        try
        {
            MxResolver.ParseServer(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or OverflowException or System.Net.Sockets.SocketException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Per-domain entries, routes and TLS policies; the failure names each bad key.</summary>
    private sealed class DestinationOptionsValidator : IValidateOptions<OutboundOptions>
    {
        public ValidateOptionsResult Validate(string? name, OutboundOptions options)
        {
            var problems = DestinationPolicies.Problems(options).Concat(OAuth.SmarthostOAuth.Problems(options)).ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
