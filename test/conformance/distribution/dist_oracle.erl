%% The oracle for multi-node scenarios: runs one scenario on real distributed Erlang (OTP 25) and prints what
%% each node's observer saw, one line per entry, in the canonical text that runtime/scenario/dist-format.ts
%% prints for OTP Lab's model.
%%
%% Run by record.mjs as:  erl -name a@127.0.0.1 -noshell -pa DIR -eval 'dist_oracle:main("FILE.terms")'
%% FILE.terms holds the scenario converted from JSON (record.mjs): a map with atom keys, strings as atoms.
%%
%% Each node (a, the one running this, and the peers) has one observer process. It traps exits and logs every
%% message it receives, in arrival order, and the result of every step it runs. Steps reach it out of band:
%% through peer:call (the peer's stdin/stdout, not the distribution), so splitting the network never cuts the
%% oracle off from a node. After every step the oracle waits `settle_ms` (default 50 ms) so that what the step
%% caused has arrived; scenarios add `sleep` steps where OTP needs longer (global, pg, connect_all).
-module(dist_oracle).
-export([main/1, observer/0, body/2, run_step/2]).

-define(HOST, "127.0.0.1").

main(File) ->
    try
        {ok, [S]} = file:consult(File),
        run(S)
    catch C:R:St ->
        io:format("ORACLE_FAILED ~p:~p ~p~n", [C, R, St])
    end,
    halt().

run(S) ->
    Dir = filename:dirname(code:which(?MODULE)),
    put(dir, Dir),
    put(names, #{}),            % name -> pid | ref
    put(peers, #{}),            % short node name -> peer pid
    put(logs, #{}),             % short node name -> [line] collected from stopped nodes
    put(connected_at_split, []),
    Settle = maps:get(settle_ms, S, 50),
    put(pop, maps:get(prevent_overlapping_partitions, S, true)),
    {ok, Pop} = application:get_env(kernel, prevent_overlapping_partitions),
    Pop = get(pop),                % oracle.ts started this node with the same setting
    put(settle, Settle),
    start_observer(a),
    [start_peer(N, true) || N <- maps:get(nodes, S, [])],
    [start_peer(N, false) || N <- maps:get(unconnected, S, [])],
    put(unconnected, maps:get(unconnected, S, [])),
    wait_mesh(),
    timer:sleep(200),
    lists:foreach(fun(Step) -> step(Step), timer:sleep(Settle) end, maps:get(steps, S)),
    timer:sleep(200),
    Nodes = [a | maps:keys(get(peers))],
    [collect(N) || N <- Nodes],
    Names = get(names),
    Logs = get(logs),
    lists:foreach(fun(N) ->
        lists:foreach(fun(E) -> io:format("LOG ~s ~s~n", [N, fmt(E, Names)]) end, maps:get(N, Logs, []))
    end, lists:usort(maps:keys(Logs))),
    [catch peer:stop(P) || P <- maps:values(get(peers))],
    ok.

%% Nodes are named N ++ Suffix (DIST_ORACLE_SUFFIX, empty by default) so that several oracles can run at once.
suffix() -> os:getenv("DIST_ORACLE_SUFFIX", "").
full(N) -> list_to_atom(atom_to_list(N) ++ suffix() ++ "@" ++ ?HOST).
short(Node) ->
    Name = hd(string:split(atom_to_list(Node), "@")),
    list_to_atom(string:slice(Name, 0, length(Name) - length(suffix()))).

start_peer(N, Connect) ->
    Kernel = case get(pop) of false -> ["-kernel", "prevent_overlapping_partitions", "false"]; _ -> [] end,
    {ok, P, Node} = peer:start_link(#{name => list_to_atom(atom_to_list(N) ++ suffix()), host => ?HOST, connection => standard_io,
                                      args => ["-pa", get(dir) | Kernel]}),
    Node = full(N),
    put(peers, (get(peers))#{N => P}),
    {ok, _} = peer:call(P, pg, start, [pg]),
    ok = peer:call(P, dist_oracle, run_step, [start_observer, []]),
    case Connect of
        true -> true = net_kernel:connect_node(Node);
        false -> ok
    end.

start_observer(a) -> run_step(start_observer, []).

%% Runs on any node: the observer of this node is registered as dist_oracle_obs.
run_step(start_observer, _) ->
    case whereis(pg) of undefined -> {ok, _} = pg:start(pg); _ -> ok end,
    Self = self(),
    Pid = spawn(fun() -> register(dist_oracle_obs, self()), Self ! registered, observer() end),
    receive registered -> ok end,
    _ = Pid,
    ok;
run_step(collect, _) ->
    dist_oracle_obs ! {collect, self()},
    receive {log, L} -> L end;
run_step(Step, Names) ->
    dist_oracle_obs ! {cmd, self(), Step, Names},
    receive {done, R} -> R end.

on(N, Step) ->
    Names = get(names),
    R = case N of
            a -> run_step(Step, Names);
            _ -> peer:call(maps:get(N, get(peers)), dist_oracle, run_step, [Step, Names], 30000)
        end,
    case R of
        {bind, K, V} -> put(names, (get(names))#{K => V});
        {bind2, K1, V1, K2, V2} -> put(names, (get(names))#{K1 => V1, K2 => V2});
        _ -> ok
    end.

collect(N) ->
    L = case N of
            a -> run_step(collect, []);
            _ -> peer:call(maps:get(N, get(peers)), dist_oracle, run_step, [collect, []])
        end,
    Logs = get(logs),
    put(logs, Logs#{N => maps:get(N, Logs, []) ++ L}).

%% ---------------------------------------------------------------- steps run by the oracle itself

step(#{op := sleep, ms := Ms}) -> timer:sleep(Ms);
step(#{op := netsplit, groups := Groups}) ->
    All = [a | maps:keys(get(peers))],
    GroupOf = fun(N) -> case [I || {I, G} <- lists:zip(lists:seq(1, length(Groups)), Groups), lists:member(N, G)] of
                            [I] -> I; [] -> 0 end end,
    Pairs = [{X, Y} || X <- order(All), Y <- order(All), X < Y, GroupOf(X) =/= GroupOf(Y)],
    %% Which pairs are connected now (to reconnect on heal), then make each side refuse the other, then cut.
    Conn = [{X, Y} || {X, Y} <- Pairs, lists:member(full(Y), nodes_of(X))],
    put(connected_at_split, get(connected_at_split) ++ Conn),
    [begin call_on(X, erlang, set_cookie, [full(Y), list_to_atom("split_" ++ atom_to_list(X))]),
           call_on(Y, erlang, set_cookie, [full(X), list_to_atom("split_" ++ atom_to_list(Y))]) end || {X, Y} <- Pairs],
    [call_on(X, erlang, disconnect_node, [full(Y)]) || {X, Y} <- Pairs],
    ok;
step(#{op := heal}) ->
    All = [a | maps:keys(get(peers))],
    Cookie = erlang:get_cookie(),
    [call_on(X, erlang, set_cookie, [full(Y), Cookie]) || X <- All, Y <- All, X =/= Y],
    [call_on(X, net_kernel, connect_node, [full(Y)]) || {X, Y} <- get(connected_at_split)],
    put(connected_at_split, []),
    wait_mesh();
step(#{op := stop_node, node := N}) ->
    collect(N),
    peer:stop(maps:get(N, get(peers))),
    put(peers, maps:remove(N, get(peers))),
    ok;
step(#{op := start_node, node := N}) ->
    start_peer(N, true),
    wait_mesh();
step(#{by := N} = Step) -> on(N, Step).

%% global's connect_all meshes the connected nodes a while after a connection comes up (longer on a loaded
%% machine); the model meshes at once. So after starting nodes and after heal the oracle waits until every
%% node started connected sees all the others (at most 10 s), and scenarios never observe the mesh half made.
wait_mesh() -> wait_mesh(200).
wait_mesh(0) -> ok;
wait_mesh(Tries) ->
    Ns = [a | maps:keys(get(peers)) -- get(unconnected)],
    Full = lists:all(fun(X) -> [full(Y) || Y <- Ns, Y =/= X] -- nodes_of(X) =:= [] end, Ns),
    case Full of
        true -> ok;
        false -> timer:sleep(50), wait_mesh(Tries - 1)
    end.

%% The peers in start order, a first.
order(All) -> [a | lists:sort(All -- [a])].

nodes_of(a) -> nodes();
nodes_of(N) -> peer:call(maps:get(N, get(peers)), erlang, nodes, []).

call_on(a, M, F, A) -> apply(M, F, A);
call_on(N, M, F, A) -> peer:call(maps:get(N, get(peers)), M, F, A).

%% ---------------------------------------------------------------- the observer

observer() ->
    process_flag(trap_exit, true),
    observer([]).

observer(Log) ->
    receive
        {collect, From} -> From ! {log, lists:reverse(Log)}, observer([]);
        {cmd, From, Step, Names} ->
            {Entry, Reply} = try do(Step, Names) catch C:R -> {{step_failed, maps:get(op, Step), C, R}, ok} end,
            From ! {done, Reply},
            observer(case Entry of none -> Log; _ -> [Entry | Log] end);
        Msg -> observer([Msg | Log])
    end.

pid(Name, Names) -> maps:get(Name, Names).
node_arg(N) -> full(N).

do(#{op := spawn, on := On, as := As, body := Body} = S, _Names) ->
    Obs = self(),
    F = fun() -> dist_oracle:body(Body, Obs) end,
    case {maps:get(link, S, false), maps:get(monitor, S, false)} of
        {true, _} -> P = spawn_link(node_arg(On), F), {none, {bind, As, P}};
        {_, true} -> {P, Ref} = spawn_monitor(node_arg(On), F),
                     {none, {bind2, As, P, maps:get(ref, S, list_to_atom(atom_to_list(As) ++ "_ref")), Ref}};
        _ -> P = spawn(node_arg(On), F), {none, {bind, As, P}}
    end;
do(#{op := send, to := To, msg := Msg}, Names) -> pid(To, Names) ! term(Msg, Names), {none, ok};
do(#{op := link, to := To}, Names) -> {{link, To, catch link(pid(To, Names))}, ok};
do(#{op := unlink, to := To}, Names) -> unlink(pid(To, Names)), {none, ok};
do(#{op := monitor, to := To, as := As}, Names) -> Ref = erlang:monitor(process, pid(To, Names)), {none, {bind, As, Ref}};
do(#{op := exit, to := To, reason := R}, Names) -> exit(pid(To, Names), term(R, Names)), {none, ok};
do(#{op := monitor_node, node := N}, _) -> erlang:monitor_node(node_arg(N), true), {none, ok};
do(#{op := monitor_nodes}, _) -> ok = net_kernel:monitor_nodes(true), {none, ok};
do(#{op := nodes}, _) -> {{nodes, lists:sort([short(X) || X <- nodes()])}, ok};
do(#{op := connect, node := N}, _) -> {{connect, N, net_kernel:connect_node(node_arg(N))}, ok};
do(#{op := disconnect, node := N}, _) -> {{disconnect, N, erlang:disconnect_node(node_arg(N))}, ok};
do(#{op := is_alive, to := To}, Names) -> {{is_alive, To, rpc_alive(pid(To, Names))}, ok};
do(#{op := global_register, name := G, pid := P}, Names) -> {{global_register, G, global:register_name(G, pid(P, Names))}, ok};
do(#{op := global_unregister, name := G}, _) -> {{global_unregister, G, global:unregister_name(G)}, ok};
do(#{op := global_whereis, name := G}, _) -> {{global_whereis, G, global:whereis_name(G)}, ok};
do(#{op := global_send, name := G, msg := M}, Names) ->
    {{global_send, G, try global:send(G, term(M, Names)) catch exit:{badarg, _} -> badarg end}, ok};
do(#{op := pg_join, group := G, pid := P}, Names) -> {{pg_join, G, pg:join(G, pid(P, Names))}, ok};
do(#{op := pg_leave, group := G, pid := P}, Names) -> {{pg_leave, G, pg:leave(G, pid(P, Names))}, ok};
do(#{op := pg_members, group := G}, _) -> {{pg_members, G, pg:get_members(G)}, ok};
do(#{op := pg_monitor, group := G, as := As}, _) -> {Ref, Pids} = pg:monitor(G), {{pg_monitor, G, Pids}, {bind, As, Ref}};
do(#{op := erpc_call, node := N, fn := Fn} = S, _) ->
    T = maps:get(timeout, S, infinity),
    Obs = self(),
    R = try {ok, erpc:call(node_arg(N), fun() -> remote_fn(Fn, S, Obs) end, T)}
        catch error:{exception, Reason, _} -> {error, {exception, Reason}};
              exit:{exception, Reason} -> {exit, {exception, Reason}};
              C:Reason -> {C, Reason} end,
    {{erpc_call, N, R}, ok};
do(#{op := erpc_cast, node := N, fn := Fn} = S, _) ->
    Obs = self(),
    {{erpc_cast, N, erpc:cast(node_arg(N), fun() -> remote_fn(Fn, S, Obs) end)}, ok};
do(#{op := multicall, nodes := Ns, fn := Fn} = S, _) ->
    T = maps:get(timeout, S, infinity),
    Obs = self(),
    {Res, Bad} = rpc:multicall([node_arg(N) || N <- Ns], erlang, apply, [fun() -> remote_fn(Fn, S, Obs) end, []], T),
    {{multicall, [strip(X) || X <- Res], Bad}, ok}.

strip({badrpc, {'EXIT', {R, St}}}) when is_list(St) -> {badrpc, {'EXIT', R}};
strip(X) -> X.

rpc_alive(P) when node(P) =:= node() -> is_process_alive(P);
rpc_alive(P) -> try erpc:call(node(P), erlang, is_process_alive, [P], 1000) catch _:_ -> unknown end.

remote_fn(node, _, _) -> node();
remote_fn(crash, _, _) -> error(boom);
remote_fn(exit, _, _) -> exit(bye);
remote_fn(sleep, S, _) -> timer:sleep(maps:get(ms, S)), slept;
remote_fn(send_back, _, Obs) -> Obs ! {cast_ran, node()}, ok.

%% A message as written in a scenario: lists are tuples, {list, [...]} a list, '$name' the pid or ref so named.
term(L, Names) when is_list(L) -> list_to_tuple([term(X, Names) || X <- L]);
term(#{list := L}, Names) -> [term(X, Names) || X <- L];
term(A, Names) when is_atom(A) ->
    case atom_to_list(A) of
        "$" ++ Name -> maps:get(list_to_atom(Name), Names);
        _ -> A
    end;
term(X, _) -> X.

%% Process bodies a scenario can spawn. echo: forwards every message to the observer that spawned it, as
%% {got, Self, Msg}; stops normally on `stop`, exits with R on {exit, R}. trap: the same, trapping exits.
body(trap, Obs) -> process_flag(trap_exit, true), loop(Obs);
body(echo, Obs) -> loop(Obs);
body(wait, _) -> receive stop -> ok end.

loop(Obs) ->
    receive
        stop -> ok;
        {exit, R} -> exit(R);
        {crash, R} -> error(R);
        M -> Obs ! {got, self(), M}, loop(Obs)
    end.

%% ---------------------------------------------------------------- the canonical text (same as dist-format.ts)

fmt(T, Names) ->
    Rev = maps:fold(fun(K, V, Acc) -> Acc#{V => K} end, #{}, Names),
    lists:flatten(f(T, Rev)).

f(T, Rev) when is_pid(T); is_reference(T) ->
    case maps:find(T, Rev) of
        {ok, N} -> atom_to_list(N);
        error when is_pid(T) -> "pid@" ++ atom_to_list(short(node(T)));
        error -> "ref"
    end;
f(T, _) when is_atom(T) ->
    S = atom_to_list(T),
    case string:split(S, "@") of
        [_, ?HOST] -> atom_to_list(short(T));
        _ -> atom(S)
    end;
f(T, _) when is_integer(T) -> integer_to_list(T);
f({R, St}, Rev) when is_list(St), St =/= [] ->
    %% An error reason with its stacktrace: the stack is printed as `stack` (the model's frames are JavaScript's).
    case lists:all(fun({M, _, _, _}) when is_atom(M) -> true; (_) -> false end, St) of
        true -> "{" ++ f(R, Rev) ++ ",stack}";
        false -> "{" ++ f(R, Rev) ++ "," ++ f(St, Rev) ++ "}"
    end;
f(T, Rev) when is_tuple(T) -> "{" ++ join([f(X, Rev) || X <- tuple_to_list(T)]) ++ "}";
f(T, Rev) when is_list(T) ->
    Items = [f(X, Rev) || X <- T],
    %% A list of pids is printed sorted: pg and nodes() give no order (see README "any order").
    Sorted = case T =/= [] andalso lists:all(fun is_pid/1, T) of true -> lists:sort(Items); false -> Items end,
    "[" ++ join(Sorted) ++ "]";
f(T, _) -> io_lib:format("~w", [T]).

atom(S) ->
    case re:run(S, "^[a-z][a-zA-Z0-9_]*$") of
        {match, _} -> S;
        nomatch -> "'" ++ S ++ "'"
    end.

join([]) -> "";
join([H | T]) -> H ++ lists:append(["," ++ X || X <- T]).
