%% The BEAM side of `npm run bench`: the same workloads as bench/workers/runtime-worker.mjs, run on one
%% scheduler (`erl +S 1:1`). It reads one request per line on stdin ("spawn 100000") and answers one line of
%% JSON on stdout, so the Node orchestrator can alternate it with the other sides in the same run.
-module(bench_beam).
-export([main/0, noop/0]).

main() ->
    %% Supervisor reports would go to the console for every restart: OTP's logger is the slowest part of a
    %% restart, and the runtime's counterpart (a report event in memory) is cheap, so compare without it.
    logger:set_primary_config(level, none),
    loop(),
    init:stop().

loop() ->
    case io:get_line(standard_io, "") of
        eof -> ok;
        {error, _} -> ok;
        Line ->
            [Op | Args] = string:lexemes(string:trim(Line), " "),
            Reply = try run(Op, [list_to_integer(A) || A <- Args]) of
                        R -> R
                    catch Class:Reason:Stack ->
                        #{error => iolist_to_binary(io_lib:format("~p:~p ~p", [Class, Reason, Stack]))}
                    end,
            io:put_chars(standard_io, ["@@BENCH ", json(Reply), $\n]),
            loop()
    end.

%% Every workload runs in a fresh process so that the reader above (and its heap) stays out of the figures.
run(Op, Args) ->
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), workload(Op, Args)} end),
    receive
        {Pid, Result} -> erlang:demonitor(Ref, [flush]), Result;
        {'DOWN', Ref, process, Pid, Reason} -> #{error => iolist_to_binary(io_lib:format("~p", [Reason]))}
    end.

now_ns() -> erlang:monotonic_time(nanosecond).
ms_since(T0) -> (now_ns() - T0) / 1.0e6.

workload("info", []) ->
    #{otp => list_to_binary(erlang:system_info(otp_release)),
      schedulers => erlang:system_info(schedulers_online),
      emu_flavor => atom_to_binary(erlang:system_info(emu_flavor), utf8)};

%% Spawn N processes that return at once; a last process tells us when the run queue (FIFO on one scheduler)
%% has run all of them.
workload("spawn", [N]) ->
    Before = erlang:system_info(process_count),
    T0 = now_ns(),
    spawn_n(N),
    Self = self(),
    spawn(fun() -> Self ! spawned_all end),
    receive spawned_all -> ok end,
    Ms = ms_since(T0),
    wait_count(Before),
    #{ms => Ms, n => N};

%% The same with spawn(M, F, A): no fun per process (the runtime's counterpart shares one generator function).
workload("spawn_mfa", [N]) ->
    Before = erlang:system_info(process_count),
    T0 = now_ns(),
    spawn_mfa_n(N),
    Self = self(),
    spawn(fun() -> Self ! spawned_all end),
    receive spawned_all -> ok end,
    Ms = ms_since(T0),
    wait_count(Before),
    #{ms => Ms, n => N};

%% N round trips between two processes: {Ping, ping} -> pong.
workload("pingpong", [N]) ->
    Pong = spawn(fun pong/0),
    T0 = now_ns(),
    ping(Pong, N),
    Ms = ms_since(T0),
    Pong ! stop,
    #{ms => Ms, n => N};

%% N gen_server:call round trips to an echo server.
workload("call", [N]) ->
    {ok, S} = gen_server:start_link(bench_gs, echo, []),
    call_n(S, 0, N),
    T0 = now_ns(),
    call_n(S, 0, N),
    Ms = ms_since(T0),
    unlink(S), exit(S, kill),
    #{ms => Ms, n => N};

%% N one_for_one restarts: kill the child, wait for its replacement's init to report in. A supervisor keeps
%% the times of its recent restarts in a list it scans on every restart, so the restarts run in batches of B,
%% each under a fresh supervisor (intensity B + 10): the figure is the latency of one restart, not of a scan
%% over thousands of earlier ones. Only the restarts are timed.
workload("restart", [N, B]) ->
    process_flag(trap_exit, true),
    Ms = restart_batches(N, B, 0.0),
    #{ms => Ms, n => N};

%% Memory of N idle gen_servers started (linked) by one owner: erlang:memory(processes) delta.
workload("memory", [N]) ->
    Self = self(),
    erlang:garbage_collect(),
    M0 = erlang:memory(processes),
    Owner = spawn(fun() ->
        [{ok, _} = gen_server:start_link(bench_gs, idle, []) || _ <- lists:seq(1, N)],
        Self ! started,
        receive stop -> ok end
    end),
    receive started -> ok end,
    erlang:garbage_collect(Owner),
    M1 = erlang:memory(processes),
    Before = erlang:system_info(process_count),
    MRef = monitor(process, Owner),
    exit(Owner, kill),
    receive {'DOWN', MRef, process, Owner, _} -> ok end,
    wait_count(Before - N - 1),
    #{bytes => M1 - M0, n => N};

%% simple_one_for_one with N idle gen_server children: start them all, then shut the supervisor down.
workload("dynsup", [N]) ->
    process_flag(trap_exit, true),
    {ok, Sup} = supervisor:start_link(bench_sup, simple),
    T0 = now_ns(),
    start_children(Sup, N),
    StartMs = ms_since(T0),
    T1 = now_ns(),
    ok = gen_server:stop(Sup),
    StopMs = ms_since(T1),
    #{start_ms => StartMs, stop_ms => StopMs, n => N}.

spawn_n(0) -> ok;
spawn_n(N) -> spawn(fun() -> ok end), spawn_n(N - 1).

spawn_mfa_n(0) -> ok;
spawn_mfa_n(N) -> spawn(?MODULE, noop, []), spawn_mfa_n(N - 1).

noop() -> ok.

wait_count(Target) ->
    case erlang:system_info(process_count) =< Target + 1 of
        true -> ok;
        false -> timer:sleep(1), wait_count(Target)
    end.

pong() ->
    receive
        {From, ping} -> From ! pong, pong();
        stop -> ok
    end.

ping(_, 0) -> ok;
ping(Pong, N) ->
    Pong ! {self(), ping},
    receive pong -> ok end,
    ping(Pong, N - 1).

call_n(_, N, N) -> ok;
call_n(S, I, N) -> I = gen_server:call(S, I), call_n(S, I + 1, N).

restart_batches(N, _, Ms) when N =< 0 -> Ms;
restart_batches(N, B, Ms) ->
    K = min(N, B),
    {ok, Sup} = supervisor:start_link(bench_sup, {one_for_one, K + 10, self()}),
    First = receive {started, P0} -> P0 end,
    T0 = now_ns(),
    restart_n(First, K),
    Ms1 = ms_since(T0),
    stop_sup(Sup),
    restart_batches(N - K, B, Ms + Ms1).

restart_n(_, 0) -> ok;
restart_n(Pid, N) ->
    exit(Pid, kill),
    receive {started, New} -> restart_n(New, N - 1) end.

start_children(_, 0) -> ok;
start_children(Sup, N) -> {ok, _} = supervisor:start_child(Sup, []), start_children(Sup, N - 1).

stop_sup(Sup) ->
    MRef = monitor(process, Sup),
    unlink(Sup),
    exit(Sup, shutdown),
    receive {'DOWN', MRef, process, Sup, _} -> ok end.

%% A tiny JSON encoder for flat maps of numbers and binaries.
json(M) when is_map(M) ->
    Fields = [[$", atom_to_list(K), $", $:, value(V)] || {K, V} <- maps:to_list(M)],
    [${, lists:join($,, Fields), $}].

value(V) when is_integer(V) -> integer_to_list(V);
value(V) when is_float(V) -> float_to_list(V, [{decimals, 6}, compact]);
value(V) when is_binary(V) -> [$", [escape(C) || <<C>> <= V], $"].

escape($") -> "\\\"";
escape($\\) -> "\\\\";
escape(C) when C < 32 -> " ";
escape(C) -> C.
