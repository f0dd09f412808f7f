using MailCluster.Queue.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailCluster.Outbound.Tests;

public sealed class AddOutboundTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        services.AddOutbound(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Binds_both_sections_and_registers_singletons()
    {
        using var provider = Build(new()
        {
            ["MailCluster:Outbound:Port"] = "2525",
            ["MailCluster:Outbound:HeloName"] = "mx.mailcluster.test",
            ["MailCluster:Dns:Servers:0"] = "127.0.0.1:5353",
            ["MailCluster:Dns:TimeoutSeconds"] = "3",
        });

        var outbound = provider.GetRequiredService<IOptions<OutboundOptions>>().Value;
        var dns = provider.GetRequiredService<IOptions<DnsOptions>>().Value;
        Assert.Equal((2525, "mx.mailcluster.test"), (outbound.Port, outbound.HeloName));
        Assert.Equal(["127.0.0.1:5353"], dns.Servers);
        Assert.Equal(3, dns.TimeoutSeconds);
        Assert.IsType<NextHopConnector>(provider.GetRequiredService<IDeliveryConnector>());
        Assert.Same(provider.GetRequiredService<IDeliveryConnector>(), provider.GetRequiredService<IDeliveryConnector>());
        Assert.Same(provider.GetRequiredService<MxResolver>(), provider.GetRequiredService<MxResolver>());
    }

    [Fact]
    public void Bad_values_are_reported_with_their_key()
    {
        using var provider = Build(new() { ["MailCluster:Outbound:Port"] = "0" });
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<OutboundOptions>>().Value);
        Assert.Contains("MailCluster:Outbound:Port", e.Message, StringComparison.Ordinal);
    }
}
