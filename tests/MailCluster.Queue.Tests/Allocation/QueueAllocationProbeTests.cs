using Xunit;

namespace MailCluster.Queue.Tests.Allocation;

/// <summary>Runs the allocation probe (<see cref="QueueAllocationProbe"/>) and prints its figures: bytes per message per
/// step (<c>dotnet test --filter QueueAllocationProbe --logger "console;verbosity=detailed"</c>). It asserts that every
/// message went through the whole path, not a figure: a budget would break on a runtime upgrade, not on a regression
/// worth a red build.</summary>
public class QueueAllocationProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_message_goes_through_the_whole_path_and_the_figures_are_printed()
    {
        var (bytes, end) = QueueAllocationProbe.Run(messages: 20_000, resident: 1000);

        Assert.Equal(1000, end.Messages.Count); // only the resident messages on hold are left: every other one was delivered
        Assert.Equal(1000, end.OnHoldCount);
        for (int i = 0; i < bytes.Length; i++)
        {
            output.WriteLine($"{QueueAllocationProbe.Steps[i],-20} {bytes[i],8:0} B/message");
        }

        output.WriteLine($"{"total",-20} {bytes.Sum(),8:0} B/message");
    }
}
