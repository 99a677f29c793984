using System.Buffers;
using System.Collections.Concurrent;
using Grpc.Core;
using Strata.Core.Placement;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Serving;

/// <summary>The gRPC face of a block server: checks every call, then runs the engine on the session's KV caches.</summary>
internal sealed partial class BlockServerService : BlockServer.BlockServerBase, IAsyncDisposable
{
    private readonly LlamaModel _model;
    private readonly BlockServerLimits _limits;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ServerSession> _sessions = new(StringComparer.Ordinal);
    private readonly KvBulkListener? _bulk;
    private readonly Security.TlsOptions? _tls;
    private readonly KvArrayPool _kvPool;

    // Gathers concurrent sessions' one-token steps into one pass over the weights; null when --max-batch is 1.
    private readonly DecodeBatcher? _batcher;

    // KV bytes reserved by bulk pulls in flight (admission counts them). A block being received counts here and in its
    // session until its pull ends: for those milliseconds the server looks fuller than it is, never emptier.
    private long _pendingKvBytes;

    // Serializes admission decisions (KV reservation, the session limit) so that each sees the others' effects.
    private readonly object _admission = new();

    public BlockServerService(LlamaModel model, BlockServerLimits limits, TimeProvider time, KvBulkListener? bulk, Security.TlsOptions? tls = null)
    {
        _tls = tls;
        _model = model;
        _limits = limits;
        _time = time;
        _bulk = bulk;
        _kvPool = new KvArrayPool(limits.KvPoolBytes ?? limits.MaxKvBytes);
        if (limits.MaxDecodeBatch > 1)
        {
            _batcher = new DecodeBatcher(model, new DecodeBatchOptions { MaxBatch = limits.MaxDecodeBatch, BatchWait = limits.DecodeBatchWait, MaxReturnWait = limits.DecodeReturnWait }, time,
                tokens => DecodeStepRan?.Invoke(tokens));
        }
    }

    /// <summary>Called with the number of sessions' tokens of every decode step run (1 for one not batched): the batch-size metric.</summary>
    public Action<int>? DecodeStepRan { get; set; }

    /// <summary>Stops the decode batcher once the steps queued in it have run.</summary>
    public ValueTask DisposeAsync() => _batcher?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Where sessions' KV arrays go when they are removed, and where new sessions take theirs.</summary>
    public KvArrayPool KvPool => _kvPool;

    /// <summary>Drops sessions idle for longer than the limit (skipping any in the middle of a call), their KV memory going to the pool; returns how many.</summary>
    public int EvictIdleSessions()
    {
        var evicted = 0;
        foreach (var (id, session) in _sessions)
        {
            if (_time.GetElapsedTime(Volatile.Read(ref session.LastUsedTimestamp)) > _limits.SessionIdleTimeout
                && session.Lock.Wait(0))
            {
                try
                {
                    if (_time.GetElapsedTime(Volatile.Read(ref session.LastUsedTimestamp)) > _limits.SessionIdleTimeout && _sessions.TryRemove(id, out _))
                    {
                        session.Removed = true;
                        session.Session.Release(); // under the lock, so no call is using the arrays
                        _batcher?.Forget(session.Session); // its steps stop waiting for it
                        evicted++;
                    }
                }
                finally
                {
                    session.Lock.Release();
                }
            }
        }

        return evicted;
    }

    /// <summary>The limits this server enforces.</summary>
    public BlockServerLimits Limits => _limits;

    /// <summary>Sessions held now.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>KV-cache bytes held by every session now, and reserved by bulk pulls in flight.</summary>
    public long KvBytes => _sessions.Values.Sum(s => s.AccountedKvBytes) + Interlocked.Read(ref _pendingKvBytes) + (_bulk?.CopyBytes ?? 0);

    // Chunks of a KV export: the configured size, leaving room in a message for its other fields.
    private int KvChunkBytes => Math.Min(_limits.KvChunkBytes, _limits.MaxMessageBytes - 4096);

    private BlockRange Blocks => _model.Weights.Blocks;

    public override Task<InfoReply> Info(InfoRequest request, ServerCallContext context) => Task.FromResult(new InfoReply
    {
        ModelName = _model.Config.Architecture.Name,
        HiddenSize = _model.Config.HiddenSize,
        LayerCount = _model.Config.LayerCount,
        FirstBlock = Blocks.First,
        BlockCount = Blocks.Count,
        KeyValueDimension = _model.Config.KeyValueDimension,
        SessionCount = _sessions.Count,
        KvBytes = KvBytes,
        BulkPort = _bulk?.Port ?? 0,
    });

    public override Task<ForwardReply> Forward(ForwardRequest request, ServerCallContext context) => RunStepAsync(request, context, afterBlock: null);

    public override async Task ForwardStreaming(ForwardStreamingRequest request, IServerStreamWriter<ForwardProgress> responseStream, ServerCallContext context)
    {
        var step = request.Step ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "step is missing; pass the forward request to run."));
        var offer = request.OfferKv && _bulk is not null;
        var reply = await RunStepAsync(step, context, async (session, block) =>
        {
            var done = new BlockDone { BlockIndex = block };
            if (offer)
            {
                try
                {
                    done.Offer = OfferCopy(session, block);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
                {
                    // Too many offers outstanding: this block goes without one and the client moves it by asking later.
                }
            }

            await responseStream.WriteAsync(new ForwardProgress { BlockDone = done }, context.CancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        await responseStream.WriteAsync(new ForwardProgress { Result = reply }, context.CancellationToken).ConfigureAwait(false);
    }

    // Runs a step under the session's lock; with afterBlock, one block at a time (same bits), calling it after each block.
    private async Task<ForwardReply> RunStepAsync(ForwardRequest request, ServerCallContext context, Func<ServerSession, int, Task>? afterBlock)
    {
        CheckRange(request.FirstBlock, request.BlockCount);
        var width = _model.Config.HiddenSize;

        // Shape and byte count only: the floats are decoded once the step is admitted, into a pooled buffer.
        var tokens = TensorCodec.CheckMatrix(request.Hidden, width, _limits.MaxTokensPerCall, "hidden");
        var maxContext = _model.Config.Architecture.MaxContextTokens;
        if (maxContext > 0 && (long)request.StartPosition + tokens > maxContext)
        {
            throw new RpcException(new Status(StatusCode.OutOfRange,
                $"A step of {tokens} tokens from position {request.StartPosition} passes the model's context of {maxContext} tokens."));
        }

        if (request.ExpectedTokens < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"expected_tokens is {request.ExpectedTokens}; send the tokens the session expects to hold, or 0 when unknown."));
        }

        var expected = maxContext > 0 ? Math.Min(request.ExpectedTokens, maxContext) : request.ExpectedTokens;
        var session = GetOrCreate(request.SessionId, ClientOf(context), out var created);
        await session.EnterAsync(request.SessionId, context.CancellationToken).ConfigureAwait(false);
        float[]? hidden = null; // (tokens, hidden), rented
        try
        {
            var cached = session.Session.TokenCount(request.FirstBlock);
            if (request.StartPosition > cached || request.StartPosition < 0)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"Session '{request.SessionId}' has {cached} tokens cached in block {request.FirstBlock}; a step starting at position {request.StartPosition} would leave a gap. Replay from position {cached} or lower."));
            }

            // Admission, before a byte of the input is decoded: the capacity the session's arrays will have after the step
            // (exact: the size each growing cache will be given, see BlockKvCache.CapacityBytesFor) must fit the budget
            // beside everyone else's. Check and reservation are one atomic act, so concurrent steps cannot all pass one
            // stale reading; the session counts at the admitted size until the step ends, by when its arrays hold it.
            var end = request.StartPosition + tokens;
            var current = session.Session.KvCapacityBytes;
            var target = current;
            for (var block = request.FirstBlock; block < request.FirstBlock + request.BlockCount; block++)
            {
                var cache = session.Session.Cache(block);
                if (cache.CapacityTokens < end)
                {
                    target += cache.CapacityBytesFor(cache.GrowthTokens(end, expected)) - cache.CapacityBytes;
                }
            }

            lock (_admission)
            {
                var held = KvBytes - session.AccountedKvBytes;
                if (held + target > _limits.MaxKvBytes)
                {
                    throw new RpcException(new Status(StatusCode.ResourceExhausted,
                        $"This server's KV budget of {_limits.MaxKvBytes} bytes is full ({held + current} held, this step needs {target - current} more); wait and retry, or try another server."));
                }

                session.SetStepTarget(target);
            }

            hidden = ArrayPool<float>.Shared.Rent(tokens * width);
            var input = hidden.AsMemory(0, tokens * width);
            TensorCodec.DecodeInto(request.Hidden.Data, input.Span);
            if (Verification.HiddenStateCheck.FirstNonFinite(input.Span) is var bad and >= 0)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"hidden holds a non-finite value ({input.Span[bad]}) at token {bad / width}; send finite fp32 hidden states."));
            }

            // Replay: forget what the client is sending again, in the step's blocks only (a phase-split prefill runs a hop
            // block by block while earlier blocks' caches are being moved).
            session.Session.Truncate(request.StartPosition, request.FirstBlock, request.BlockCount);
            for (var block = request.FirstBlock; block < request.FirstBlock + request.BlockCount; block++)
            {
                var cache = session.Session.Cache(block);
                if (cache.TokenCount != request.StartPosition)
                {
                    throw new RpcException(new Status(StatusCode.FailedPrecondition,
                        $"Session '{request.SessionId}' has {cache.TokenCount} tokens in block {block} but the step starts at {request.StartPosition}; replay the missing tokens."));
                }

                if (cache.CapacityTokens < end)
                {
                    cache.Reserve(cache.GrowthTokens(end, expected)); // the size admission counted; appends then never grow
                }
            }

            if (afterBlock is null && tokens == 1 && _batcher is not null)
            {
                // Waits for the step even if the call is cancelled: the session's lock is held until its token has run.
                await _batcher.ForwardAsync(session.Session, request.FirstBlock, request.BlockCount, input).ConfigureAwait(false);
            }
            else if (afterBlock is null)
            {
                _model.ForwardBlocks(session.Session, request.FirstBlock, request.BlockCount, input, tokens);
            }
            else
            {
                for (var block = request.FirstBlock; block < request.FirstBlock + request.BlockCount; block++)
                {
                    _model.ForwardBlocks(session.Session, block, 1, input, tokens);
                    await afterBlock(session, block).ConfigureAwait(false);
                }
            }

            if (tokens == 1 && (afterBlock is not null || _batcher is null))
            {
                DecodeStepRan?.Invoke(1);
            }

            return new ForwardReply
            {
                Hidden = TensorCodec.ToPooledTensor(input.Span, context, tokens, width),
                CachedTokens = session.Session.TokenCount(request.FirstBlock),
            };
        }
        catch (RpcException exception) when (created && exception.StatusCode is StatusCode.ResourceExhausted or StatusCode.FailedPrecondition or StatusCode.InvalidArgument
            && session.Session.KvCapacityBytes == 0 && _sessions.TryRemove(new KeyValuePair<string, ServerSession>(request.SessionId, session)))
        {
            // A refused first step leaves no session behind (under its lock: nobody else is using it).
            session.Removed = true;
            session.Session.Release();
            _batcher?.Forget(session.Session); // its steps stop waiting for it
            throw;
        }
        finally
        {
            session.SetStepTarget(0);
            session.Lock.Release();
            if (hidden is not null)
            {
                ArrayPool<float>.Shared.Return(hidden);
            }
        }
    }

    public override async Task ExportKv(ExportKvRequest request, IServerStreamWriter<KvBlock> responseStream, ServerCallContext context)
    {
        CheckRange(request.FirstBlock, request.BlockCount);
        if (!_sessions.TryGetValue(request.SessionId, out var session))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Session '{request.SessionId}' is not held by this server (closed, timed out, or never opened)."));
        }

        Volatile.Write(ref session.LastUsedTimestamp, _time.GetTimestamp());
        var dimension = _model.Config.KeyValueDimension;
        for (var block = request.FirstBlock; block < request.FirstBlock + request.BlockCount; block++)
        {
            // Invariant: the chunks wrap this buffer, not the cache. The block is copied into it under the session's lock,
            // so a forward step running meanwhile cannot tear the block, and the buffer is ours until every chunk of the
            // block has been serialized (each write awaited); only then does it go back to the pool.
            byte[] buffer;
            int tokens;
            await session.EnterAsync(request.SessionId, context.CancellationToken).ConfigureAwait(false);
            try
            {
                var cache = session.Session.Cache(block);
                tokens = cache.TokenCount;
                buffer = ArrayPool<byte>.Shared.Rent(checked(2 * tokens * dimension * sizeof(float)));
                TensorCodec.WriteFloats(cache.Keys.Span, buffer.AsSpan(0, tokens * dimension * sizeof(float)));
                TensorCodec.WriteFloats(cache.Values.Span, buffer.AsSpan(tokens * dimension * sizeof(float)));
            }
            finally
            {
                session.Lock.Release();
            }

            try
            {
                var bytes = tokens * dimension * sizeof(float);
                await TensorCodec.WriteKvChunksAsync(responseStream, request.SessionId, block, tokens, dimension,
                    buffer.AsMemory(0, bytes), buffer.AsMemory(bytes, bytes), KvChunkBytes, context.CancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    public override async Task<ImportKvReply> ImportKv(IAsyncStreamReader<KvBlock> requestStream, ServerCallContext context)
    {
        var reply = new ImportKvReply();
        var dimension = _model.Config.KeyValueDimension;
        var reader = new KvChunkReader(dimension, _model.Config.Architecture.MaxContextTokens, StatusCode.InvalidArgument);
        ServerSession? session = null;
        BlockKvCache? cache = null;
        try
        {
            await foreach (var chunk in requestStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                // Every chunk is checked (session, block order, token range, width, byte sizes) before a byte of it is used.
                var starts = reader.Accept(chunk);
                if (starts)
                {
                    CheckRange(chunk.BlockIndex, 1);
                    var blockBytes = BlockKvCache.BytesFor(reader.BlockTokens, dimension);
                    if (KvBytes + blockBytes > _limits.MaxKvBytes)
                    {
                        throw new RpcException(new Status(StatusCode.ResourceExhausted,
                            $"This server's KV budget of {_limits.MaxKvBytes} bytes cannot take block {chunk.BlockIndex} ({blockBytes} bytes, {KvBytes} held); try another server or later."));
                    }

                    session ??= GetOrCreate(chunk.SessionId, ClientOf(context), out _);
                }

                await session!.EnterAsync(chunk.SessionId, context.CancellationToken).ConfigureAwait(false);
                try
                {
                    if (starts)
                    {
                        // The block's cache is sized once, then each chunk is copied from the message straight into it.
                        cache = session.Session.Cache(chunk.BlockIndex);
                        cache.Truncate(0);
                        cache.Reserve(reader.BlockTokens);
                    }

                    TensorCodec.AppendChunk(cache!, chunk);
                }
                finally
                {
                    session.Lock.Release();
                }

                reply.Bytes += BlockKvCache.BytesFor(chunk.TokenCount, dimension);
                if (reader.BlockComplete)
                {
                    reply.BlockCount++;
                    cache = null;
                }
            }

            reader.Finish();
        }
        catch when (session is not null && cache is not null)
        {
            // A stream that fails inside a block leaves that block empty rather than half imported, its arrays in the pool.
            await session.Lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                cache.Release();
            }
            finally
            {
                session.Lock.Release();
            }

            throw;
        }

        return reply;
    }

    // The reply does not wait for calls still holding the session: its memory goes to the pool when the last one ends.
    public override Task<CloseSessionReply> CloseSession(CloseSessionRequest request, ServerCallContext context) =>
        Task.FromResult(new CloseSessionReply { Existed = RemoveSession(request.SessionId, out _) });

    /// <summary>Removes a session (false if it was not held); <paramref name="released"/> ends once no call holds it and its KV memory is in the pool.</summary>
    internal bool RemoveSession(string sessionId, out Task released)
    {
        if (!_sessions.TryRemove(sessionId, out var session))
        {
            released = Task.CompletedTask;
            return false;
        }

        released = ReleaseAsync(session);
        return true;
    }

    // Gives a removed session's arrays to the pool. Its lock is taken first: a forward step, export, import or bulk send
    // that got the session before its removal may still be using them, and they must not be handed to another session
    // under it. Cannot deadlock: the remover holds nothing else, and every holder of a session lock lets it go without
    // waiting on a removal. A call that takes the lock after this finds the caches empty.
    private async Task ReleaseAsync(ServerSession session)
    {
        await session.Lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            session.Removed = true;
            session.Session.Release();
            _batcher?.Forget(session.Session); // its steps stop waiting for it
        }
        finally
        {
            session.Lock.Release();
        }
    }

    private void CheckRange(int firstBlock, int blockCount)
    {
        // In 64 bits: first + count must not wrap (first=1, count=int.MaxValue would pass the check and run nothing).
        if (blockCount < 1 || firstBlock < Blocks.First || (long)firstBlock + blockCount > Blocks.End)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Blocks [{firstBlock}, {(long)firstBlock + blockCount}) are not all hosted here; this server hosts [{Blocks.First}, {Blocks.End})."));
        }
    }

    internal ServerSession GetOrCreate(string sessionId) => GetOrCreate(sessionId, client: string.Empty, out _);

    // "ipv4:127.0.0.1:5000" -> "127.0.0.1": a client is its host, however many connections it opens.
    private static string ClientOf(ServerCallContext context)
    {
        var text = context.Peer ?? string.Empty;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var address = colon >= 0 ? text[(colon + 1)..] : text;
        var port = address.LastIndexOf(':');
        return port > 0 ? address[..port] : address;
    }

    private ServerSession GetOrCreate(string sessionId, string client, out bool created)
    {
        created = false;
        if (string.IsNullOrEmpty(sessionId) || sessionId.Length > 128)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "session_id must be 1 to 128 characters."));
        }

        if (_sessions.TryGetValue(sessionId, out var existing))
        {
            Volatile.Write(ref existing.LastUsedTimestamp, _time.GetTimestamp());
            return existing;
        }

        // Count check and insertion are one atomic act: concurrent first steps cannot pass the limit together.
        lock (_admission)
        {
            if (_sessions.TryGetValue(sessionId, out existing))
            {
                return existing;
            }

            if (_sessions.Count >= _limits.MaxSessions)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"This server holds its limit of {_limits.MaxSessions} sessions; try another server or later."));
            }

            if (_limits.MaxSessionsPerClient is { } quota && _sessions.Values.Count(s => string.Equals(s.Client, client, StringComparison.Ordinal)) >= quota)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"Client {client} holds its quota of {quota} sessions on this server; close one (or wait for one to end) before opening another."));
            }

            var fresh = new ServerSession(new InferenceSession(_model.Config, _kvPool), _time.GetTimestamp(), client);
            _sessions[sessionId] = fresh;
            created = true;
            return fresh;
        }
    }
}
