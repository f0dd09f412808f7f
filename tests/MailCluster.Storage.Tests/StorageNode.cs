using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MailCluster.Storage.Tests;

/// <summary>A node's storage (its services and Akka's journal and snapshot store) started in a test host for the
/// length of <c>body</c>, then stopped.</summary>
internal static class StorageNode
{
    public static async Task RunAsync(
        StorageOptions storage, string directory, Func<IServiceProvider, Task> body, CancellationToken ct, string? overridingHocon = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddStorage(storage, directory);
        builder.Services.AddAkka("storage-test", (akka, _) =>
        {
            akka.WithStorage(storage, directory);
            if (overridingHocon is not null)
            {
                akka.AddHocon(overridingHocon, HoconAddMode.Prepend);
            }
        });
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            await body(host.Services);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
