using MailCluster.Queue.Spool;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary><see cref="IMessageDomains"/> (<see cref="SpoolReferenceReader"/>) over the same store: the domains whose
/// reference to a body remains, as writes and releases leave them (the hold API finds a message's queues this way).</summary>
public abstract partial class SpoolStoreContract
{
    protected async Task References_name_the_domains_still_holding_a_message(bool postgres)
    {
        var location = await NewLocationAsync();
        await using var store = await OpenAsync(location);
        await using var references = new SpoolReferenceReader(postgres, location);
        await store.WriteAsync("m1", Body(10, 1), ["b.example", "a.example"], Ct);
        await store.CommitAsync("m1", Ct);

        Assert.Equal(["a.example", "b.example"], await references.DomainsOfAsync("m1", Ct));
        Assert.Empty(await references.DomainsOfAsync("unknown", Ct));

        await store.ReleaseAsync("m1", "a.example", Ct);
        Assert.Equal(["b.example"], await references.DomainsOfAsync("m1", Ct));
        await store.ReleaseAsync("m1", "b.example", Ct);
        Assert.Empty(await references.DomainsOfAsync("m1", Ct));
    }
}
