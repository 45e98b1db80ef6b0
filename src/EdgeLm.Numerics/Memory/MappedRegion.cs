using System.IO.MemoryMappedFiles;

namespace EdgeLm.Numerics.Memory;

/// <summary>
/// A read-only memory mapping of a whole file. Model weights stay here and are read in place: nothing copies
/// a tensor into managed memory. Spans handed out are valid until the region is disposed.
/// </summary>
public sealed unsafe class MappedRegion : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _pointer;

    private MappedRegion(MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* pointer, long length)
    {
        _map = map;
        _view = view;
        _pointer = pointer;
        Length = length;
    }

    /// <summary>Length of the mapped file in bytes.</summary>
    public long Length { get; }

    /// <summary>Maps <paramref name="path"/> read-only. An empty file gives an empty region.</summary>
    public static MappedRegion Open(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        long length = stream.Length;
        if (length == 0)
            return new MappedRegion(null, null, null, 0);
        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        try
        {
            var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            return new MappedRegion(map, view, pointer, length);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>A span over <paramref name="length"/> bytes starting at <paramref name="offset"/>, bounds-checked against the file.</summary>
    public ReadOnlySpan<byte> Slice(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_pointer == null && Length != 0, this);
        if (offset < 0 || length < 0 || offset > Length - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range [{offset}, {offset}+{length}) lies outside the {Length}-byte mapping.");
        return length == 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_pointer + offset, length);
    }

    /// <summary>
    /// Raw address of <paramref name="offset"/> for kernels that walk tensors larger than a span can hold.
    /// The caller keeps the region alive while it uses the pointer.
    /// </summary>
    public byte* Pointer(long offset)
    {
        ObjectDisposedException.ThrowIf(_pointer == null && Length != 0, this);
        if (offset < 0 || offset > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Offset {offset} lies outside the {Length}-byte mapping.");
        return _pointer + offset;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_view is not null && _pointer != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _pointer = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
