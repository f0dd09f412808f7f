using System.Runtime.InteropServices;

namespace MailCluster.Storage;

/// <summary>The libc calls the body files need and .NET does not offer: a directory's fsync, O_DIRECT (open with its
/// flag, pread and pwrite at addresses .NET does not choose), ftruncate and lseek on such a descriptor.</summary>
internal static class LibC
{
    public const int ORdOnly = 0x0;
    public const int OWrOnly = 0x1;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int OCloExec = 0x80000;
    public const int ENoEnt = 2;
    public const int EInval = 22;
    public const int SeekEnd = 2;

    /// <summary>The exception for a failed call on <paramref name="path"/>, naming the call and the error.</summary>
    public static IOException Failure(string call, string path, int errno) =>
        new($"{call}({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");

    // DllImport rather than LibraryImport: the generated stub needs AllowUnsafeBlocks (see NodeProcess.SendSignal).
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    public static extern nint PWrite(int fd, nint buffer, nint count, long offset);

    [DllImport("libc", EntryPoint = "pread", SetLastError = true)]
    public static extern nint PRead(int fd, nint buffer, nint count, long offset);

    [DllImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static extern int FTruncate(int fd, long length);

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static extern long LSeek(int fd, long offset, int whence);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static extern int FSync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);
#pragma warning restore SYSLIB1054
}
