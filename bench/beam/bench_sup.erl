%% Supervisors for the BEAM side of the bench: one_for_one over one reporting worker, and the
%% simple_one_for_one equivalent of Elixir's DynamicSupervisor (permanent workers, shutdown 5000).
-module(bench_sup).
-behaviour(supervisor).
-export([init/1]).

init({one_for_one, Intensity, Listener}) ->
    {ok, {#{strategy => one_for_one, intensity => Intensity, period => 5},
          [#{id => worker, start => {bench_gs, start_link, [Listener]}}]}};
init(simple) ->
    {ok, {#{strategy => simple_one_for_one, intensity => 3, period => 5},
          [#{id => worker, start => {bench_gs, start_idle, []}, shutdown => 5000}]}}.
