%% gen_server for the BEAM side of the bench: an echo server, an idle server, and a worker that reports its
%% start to a listener (for restart latency).
-module(bench_gs).
-behaviour(gen_server).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, start_link/1, start_idle/0]).

start_link(Listener) -> gen_server:start_link(?MODULE, {notify, Listener}, []).
start_idle() -> gen_server:start_link(?MODULE, idle, []).

init({notify, Listener}) -> Listener ! {started, self()}, {ok, Listener};
init(State) -> {ok, State}.

handle_call(Req, _From, S) -> {reply, Req, S}.
handle_cast(_Msg, S) -> {noreply, S}.
handle_info(_Msg, S) -> {noreply, S}.
