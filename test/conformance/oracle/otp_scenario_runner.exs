# OTP conformance scenario runner (reference side).
#
# Runs a JSON scenario (see ../otp-semantics.md, part 3) against the
# real OTP supervisor / gen_server / DynamicSupervisor and prints a normalized
# trace, one JSON object per line, so that the same scenario file can be run
# against the TypeScript runtime and the two traces compared.
#
# Usage:  elixir --erl "+S 1:1" otp_scenario_runner.exs scenario.json [--check]
#   +S 1:1   single scheduler: makes the interleaving of DOWN signals from
#            dying processes and messages from supervisors reproducible.
#   --check  compare against the scenario's "expect" list and exit 1 on mismatch.
#
# Written for Elixir 1.14 / OTP 25 (no JSON module in stdlib, so a tiny one is
# included). Nothing here is needed by the TypeScript runtime.

defmodule Scn.JSON do
  # ---- minimal decoder ----
  def decode!(bin) do
    {v, rest} = value(skip(bin))
    "" = skip(rest)
    v
  end

  defp skip(<<c, r::binary>>) when c in [?\s, ?\n, ?\r, ?\t], do: skip(r)
  defp skip(b), do: b

  defp value(<<"{", r::binary>>), do: obj(skip(r), %{})
  defp value(<<"[", r::binary>>), do: arr(skip(r), [])
  defp value(<<"\"", r::binary>>), do: str(r, [])
  defp value(<<"true", r::binary>>), do: {true, r}
  defp value(<<"false", r::binary>>), do: {false, r}
  defp value(<<"null", r::binary>>), do: {nil, r}
  defp value(b), do: num(b)

  defp obj(<<"}", r::binary>>, acc), do: {acc, r}
  defp obj(b, acc) do
    {k, r} = value(skip(b))
    <<":", r::binary>> = skip(r)
    {v, r} = value(skip(r))
    acc = Map.put(acc, k, v)
    case skip(r) do
      <<",", r::binary>> -> obj(skip(r), acc)
      <<"}", r::binary>> -> {acc, r}
    end
  end

  defp arr(<<"]", r::binary>>, acc), do: {Enum.reverse(acc), r}
  defp arr(b, acc) do
    {v, r} = value(skip(b))
    case skip(r) do
      <<",", r::binary>> -> arr(skip(r), [v | acc])
      <<"]", r::binary>> -> {Enum.reverse([v | acc]), r}
    end
  end

  defp str(<<"\"", r::binary>>, acc), do: {IO.iodata_to_binary(Enum.reverse(acc)), r}
  defp str(<<"\\n", r::binary>>, acc), do: str(r, ["\n" | acc])
  defp str(<<"\\t", r::binary>>, acc), do: str(r, ["\t" | acc])
  defp str(<<"\\u", h::binary-4, r::binary>>, acc), do: str(r, [<<String.to_integer(h, 16)::utf8>> | acc])
  defp str(<<"\\", c, r::binary>>, acc), do: str(r, [<<c>> | acc])
  defp str(<<c::utf8, r::binary>>, acc), do: str(r, [<<c::utf8>> | acc])

  defp num(b) do
    {n, r} = Integer.parse(b)
    case r do
      <<".", _::binary>> -> Float.parse(b)
      _ -> {n, r}
    end
  end

  # ---- minimal encoder (keys sorted for stable output) ----
  def encode(nil), do: "null"
  def encode(true), do: "true"
  def encode(false), do: "false"
  def encode(n) when is_integer(n) or is_float(n), do: to_string(n)
  def encode(s) when is_binary(s), do: inspect(s, printable_limit: :infinity)
  def encode(l) when is_list(l), do: "[" <> Enum.map_join(l, ",", &encode/1) <> "]"
  def encode(m) when is_map(m) do
    "{" <>
      (m |> Enum.sort() |> Enum.map_join(",", fn {k, v} -> encode(to_string(k)) <> ":" <> encode(v) end)) <>
      "}"
  end
end

defmodule Scn.Term do
  @moduledoc "JSON <-> Erlang term conventions used by scenarios and traces."
  # decode: "atom" -> :atom, 1 -> 1, [..] -> list, {"tuple":[..]} -> tuple,
  #         {"shutdown": T} -> {:shutdown, T}, {"str": "x"} -> "x"
  def dec(s) when is_binary(s), do: String.to_atom(s)
  def dec(n) when is_number(n), do: n
  def dec(l) when is_list(l), do: Enum.map(l, &dec/1)
  def dec(%{"tuple" => l}), do: List.to_tuple(Enum.map(l, &dec/1))
  def dec(%{"shutdown" => t}), do: {:shutdown, dec(t)}
  def dec(%{"str" => s}), do: s
  def dec(b) when is_boolean(b) or is_nil(b), do: b

  # encode, with pids replaced by "path#incarnation" names
  def enc(t, names \\ %{})
  def enc(b, _) when is_boolean(b) or is_nil(b), do: b
  def enc(a, _) when is_atom(a), do: Atom.to_string(a)
  def enc(n, _) when is_number(n), do: n
  def enc(s, _) when is_binary(s), do: %{"str" => s}
  def enc(p, names) when is_pid(p), do: Map.get(names, p, "<unknown pid>")
  def enc(r, _) when is_reference(r), do: "<ref>"
  def enc(f, _) when is_function(f), do: "<fun>"
  # {%Exception{}, stacktrace} (Elixir raise)  and  {reason, stacktrace} (erlang:error)
  def enc({%{__exception__: true} = e, st}, _) when is_list(st), do: %{"exception" => inspect(e.__struct__)}
  def enc({r, [{m, f, a, l} | _]}, names) when is_atom(m) and is_atom(f) and (is_list(a) or is_integer(a)) and is_list(l),
    do: %{"error" => enc(r, names)}
  def enc({:shutdown, t}, names), do: %{"shutdown" => enc(t, names)}
  # raw #child{} record returned by supervisor:start_child errors
  def enc(t, _) when is_tuple(t) and tuple_size(t) == 9 and elem(t, 0) == :child, do: "<child_record>"
  def enc(t, names) when is_tuple(t), do: %{"tuple" => Enum.map(Tuple.to_list(t), &enc(&1, names))}
  def enc(l, names) when is_list(l), do: Enum.map(l, &enc(&1, names))
  def enc(%Task{pid: p}, names), do: %{"task" => enc(p, names)}
  def enc(%{} = m, names), do: %{"map" => Enum.map(Enum.sort(m), fn {k, v} -> [enc(k, names), enc(v, names)] end)}
end

defmodule Scn.Tracer do
  @moduledoc "Collects events in arrival order; monitors every started process."
  use GenServer
  def start, do: GenServer.start(__MODULE__, nil, name: __MODULE__)
  def started(path, pid, kind), do: GenServer.call(__MODULE__, {:started, path, pid, kind}, :infinity)
  def event(ev), do: GenServer.call(__MODULE__, {:event, ev}, :infinity)
  def events, do: GenServer.call(__MODULE__, :events, :infinity)
  def count, do: GenServer.call(__MODULE__, :count, :infinity)
  def names, do: GenServer.call(__MODULE__, :names, :infinity)
  def sups, do: GenServer.call(__MODULE__, :sups, :infinity)
  def pid_of(path), do: GenServer.call(__MODULE__, {:pid_of, path}, :infinity)

  def init(nil) do
    {:ok, %{t0: now(), evs: [], names: %{}, inc: %{}, live: %{}, sups: MapSet.new(), pending: []}}
  end

  defp now, do: System.monotonic_time(:millisecond)

  def handle_call({:started, path, pid, kind}, _from, s) do
    n = Map.get(s.inc, path, 0) + 1
    Process.monitor(pid)
    name = "#{path}##{n}"
    s = %{s | inc: Map.put(s.inc, path, n), names: Map.put(s.names, pid, name),
              live: Map.put(s.live, path, pid),
              sups: if(kind == :supervisor, do: MapSet.put(s.sups, pid), else: s.sups)}
    {:reply, :ok, add(s, %{"ev" => "start", "path" => path, "inc" => n})}
  end

  def handle_call({:event, ev}, _from, s), do: {:reply, :ok, add(s, ev)}
  def handle_call(:events, _from, s), do: {:reply, Enum.reverse(s.evs), s}
  def handle_call(:count, _from, s), do: {:reply, length(s.evs), s}
  def handle_call(:names, _from, s), do: {:reply, s.names, s}
  def handle_call(:sups, _from, s), do: {:reply, Enum.filter(MapSet.to_list(s.sups), &Process.alive?/1), s}
  def handle_call({:pid_of, path}, _from, s), do: {:reply, Map.get(s.live, path), s}

  def handle_info({:DOWN, _, :process, pid, reason}, s) do
    [path, n] = String.split(Map.fetch!(s.names, pid), "#")
    ev = %{"ev" => "exit", "path" => path, "inc" => String.to_integer(n), "reason" => Scn.Term.enc(reason, s.names)}
    {:noreply, add(%{s | sups: MapSet.delete(s.sups, pid)}, ev)}
  end

  def handle_info({:log, ev}, s), do: {:noreply, add(s, ev)}

  defp add(s, ev) do
    ev = ev |> enc_pids(s.names) |> Map.put("t", now() - s.t0)
    %{s | evs: [ev | s.evs]}
  end

  # events from the logger handler carry raw terms under "raw_*" keys
  defp enc_pids(ev, names) do
    Map.new(ev, fn
      {"raw_" <> k, v} -> {k, Scn.Term.enc(v, names)}
      kv -> kv
    end)
  end
end

defmodule Scn.LogHandler do
  @moduledoc "Turns SUPERVISOR REPORTs (supervisor and DynamicSupervisor) into trace events."
  def log(%{msg: {:report, %{label: {:supervisor, ctx}, report: r}}}, _cfg)
      when ctx in [:child_terminated, :start_error, :shutdown_error, :shutdown] do
    off = r[:offender] || []
    ev = %{"ev" => "report", "context" => Atom.to_string(ctx), "raw_sup" => self(),
           "raw_reason" => r[:reason], "raw_child" => Keyword.get(off, :pid)}
    send(Scn.Tracer, {:log, ev})
  end

  def log(_, _), do: :ok
end

defmodule Scn.Results do
  @moduledoc "Per-path queue of forced start results: \"ok\" | \"ignore\" | {\"error\": R} | {\"init_stop\": R}"
  def init, do: :ets.new(__MODULE__, [:named_table, :public])
  def set(path, list), do: :ets.insert(__MODULE__, {path, list})
  def next(path) do
    case :ets.lookup(__MODULE__, path) do
      [{_, [r | rest]}] -> set(path, rest); r
      _ -> "ok"
    end
  end
end

defmodule Scn.Worker do
  @moduledoc "Configurable GenServer child."
  use GenServer

  def start_link(path, opts) do
    case Scn.Results.next(path) do
      "ok" -> GenServer.start_link(__MODULE__, {path, opts, :ok})
      "ignore" -> start_failed(path, "ignore", :ignore)
      %{"error" => r} -> start_failed(path, %{"error" => r}, {:error, Scn.Term.dec(r)})
      %{"init_stop" => r} ->
        res = GenServer.start_link(__MODULE__, {path, opts, {:stop, Scn.Term.dec(r)}})
        start_failed(path, %{"init_stop" => r}, res)
    end
  end

  defp start_failed(path, what, ret) do
    Scn.Tracer.event(%{"ev" => "start_failed", "path" => path, "forced" => what})
    ret
  end

  @impl true
  def init({_path, _opts, {:stop, r}}), do: {:stop, r}
  def init({path, opts, :ok}) do
    if opts["trap_exit"], do: Process.flag(:trap_exit, true)
    Scn.Tracer.started(path, self(), :worker)
    {:ok, %{path: path, opts: opts}}
  end

  @impl true
  def handle_info({:scn_exit, reason}, s), do: {:stop, reason, s}
  def handle_info(:scn_raise, _s), do: raise("scenario raise")
  def handle_info(msg, s) do
    Scn.Tracer.event(%{"ev" => "recv", "path" => s.path, "raw_msg" => msg})
    {:noreply, s}
  end

  @impl true
  def handle_call({:echo, x}, _from, s), do: {:reply, x, s}
  def handle_call(:whoami, _from, s), do: {:reply, s.path, s}
  def handle_call({:sleep, ms}, _from, s), do: (Process.sleep(ms); {:reply, :ok, s})
  def handle_call({:stop, reason, reply}, _from, s), do: {:stop, reason, reply, s}
  def handle_call(other, _from, s), do: {:reply, {:unknown_call, other}, s}

  @impl true
  def handle_cast(msg, s) do
    Scn.Tracer.event(%{"ev" => "cast", "path" => s.path, "raw_msg" => msg})
    {:noreply, s}
  end

  @impl true
  def terminate(reason, s) do
    Scn.Tracer.event(%{"ev" => "terminate", "path" => s.path, "raw_reason" => reason})
    if ms = s.opts["terminate_ms"], do: Process.sleep(ms)
    :ok
  end
end

defmodule Scn.Sup do
  @moduledoc ":supervisor callback module built from a scenario tree node."
  @behaviour :supervisor

  def start_link(path, node), do: :supervisor.start_link(__MODULE__, {path, node})

  @impl true
  def init({path, node}) do
    Scn.Tracer.started(path, self(), :supervisor)
    flags =
      %{strategy: String.to_atom(node["strategy"] || "one_for_one"),
        intensity: node["intensity"] || 1, period: node["period"] || 5}
      |> maybe_put(:auto_shutdown, node["auto_shutdown"] && String.to_atom(node["auto_shutdown"]))
    {:ok, {flags, Enum.map(node["children"] || [], &Scn.Spec.child(path, &1))}}
  end

  defp maybe_put(m, _k, nil), do: m
  defp maybe_put(m, k, v), do: Map.put(m, k, v)
end

defmodule Scn.DynSup do
  use DynamicSupervisor
  def start_link(path, node), do: DynamicSupervisor.start_link(__MODULE__, {path, node})
  @impl true
  def init({path, node}) do
    Scn.Tracer.started(path, self(), :supervisor)
    opts = [strategy: :one_for_one, max_restarts: node["intensity"] || 3, max_seconds: node["period"] || 5]
    opts = if m = node["max_children"], do: [{:max_children, m} | opts], else: opts
    DynamicSupervisor.init(opts)
  end
end

defmodule Scn.Spec do
  @moduledoc "Scenario child node -> OTP child spec map."
  def child(parent, c) do
    path = "#{parent}/#{c["id"]}"
    kind = c["kind"] || c["type"] || "worker"
    {start, type} =
      case kind do
        "worker" -> {{Scn.Worker, :start_link, [path, c]}, :worker}
        "supervisor" -> {{Scn.Sup, :start_link, [path, c]}, :supervisor}
        "dynamic_supervisor" -> {{Scn.DynSup, :start_link, [path, c]}, :supervisor}
      end
    %{id: String.to_atom(c["id"]), start: start, type: type,
      restart: String.to_atom(c["restart"] || "permanent")}
    |> put_opt(:shutdown, shutdown(c["shutdown"]))
    |> put_opt(:significant, c["significant"])
  end

  defp shutdown(nil), do: nil
  defp shutdown(n) when is_integer(n), do: n
  defp shutdown(s), do: String.to_atom(s)
  defp put_opt(m, _k, nil), do: m
  defp put_opt(m, k, v), do: Map.put(m, k, v)
end

defmodule Scn.Vars do
  @moduledoc "Named values shared by every scenario process: monitor refs and %Task{} structs, keyed by name."
  def init, do: :ets.new(__MODULE__, [:named_table, :public])
  def put(k, v), do: :ets.insert(__MODULE__, {k, v})
  def get!(k) do
    case :ets.lookup(__MODULE__, k) do
      [{_, v}] -> v
      _ -> raise "no value named #{inspect(k)} (a monitor ref or task is named by its op's \"as\" or \"id\")"
    end
  end
end

defmodule Scn.Hot do
  @moduledoc """
  The hot-loadable module `scn_hot`, written as Erlang source and compiled without loading, so each
  `hot_load` step is one `code:load_binary/3` (and gets `{error, not_purged}` like a release handler would).
  """
  def binary(v) do
    src = """
    -module(scn_hot).
    -behaviour(gen_server).
    -vsn(#{v}).
    -export([init/1, handle_call/3, handle_cast/2, handle_info/2, code_change/3, start/1]).
    init(Path) -> 'Elixir.Scn.Tracer':started(Path, self(), worker), {ok, {state, #{v}, 0}}.
    handle_call(vsn, _From, S) -> {reply, {#{v}, S}, S};
    handle_call(bump, _From, {state, X, N}) -> {reply, N + 1, {state, X, N + 1}};
    handle_call(Other, _From, S) -> {reply, {unknown_call, Other}, S}.
    handle_cast(_Msg, S) -> {noreply, S}.
    handle_info(_Msg, S) -> {noreply, S}.
    code_change(_Old, {state, _, N}, Extra) ->
      case Extra of
        error -> {error, refused};
        crash -> erlang:error(boom);
        _ -> {ok, {state, #{v}, N}}
      end.
    start(Path) -> receive scn_go -> loop(Path) end.
    loop(Path) ->
      receive Msg ->
        'Elixir.Scn.Tracer':event(\#{<<"ev">> => <<"recv">>, <<"path">> => Path, <<"raw_msg">> => {#{v}, Msg}}),
        loop(Path)
      end.
    """
    {:ok, toks, _} = :erl_scan.string(String.to_charlist(src))
    forms = split_forms(toks, [], []) |> Enum.map(fn f -> {:ok, form} = :erl_parse.parse_form(f); form end)
    {:ok, :scn_hot, bin} = :compile.forms(forms, [:binary])
    bin
  end

  defp split_forms([], [], acc), do: Enum.reverse(acc)
  defp split_forms([{:dot, _} = d | rest], cur, acc), do: split_forms(rest, [], [Enum.reverse([d | cur]) | acc])
  defp split_forms([t | rest], cur, acc), do: split_forms(rest, [t | cur], acc)
end

defmodule Scn.Proc do
  @moduledoc """
  Scripted plain processes (and task bodies): a list of steps run in order by the process itself, then a
  serve loop that records every message (`recv`) and runs the steps other processes send it (`"by"`).
  """
  # The spawner names the new process in the tracer before it runs anything (the "go" handshake), so the
  # start event comes at the spawn, in the spawner's flow, and a process killed at once still has a name.
  def go_wait(trap) do
    if trap, do: Process.flag(:trap_exit, true)
    receive do :scn_go -> :ok end
  end

  def started(path, pid) do
    Scn.Tracer.started(path, pid, :worker)
    send(pid, :scn_go)
  end

  def run(path, trap, body) do
    go_wait(trap)
    case exec_list(body, path) do
      {:return, _} -> :ok
      :done -> serve(path)
    end
  end

  def task(path, body) do
    go_wait(false)
    case exec_list(body, path) do
      {:return, v} -> v
      :done -> serve(path)
    end
  end

  def exec_list([], _path), do: :done
  def exec_list([st | rest], path) do
    case Scn.Ops.run(st, nil, path) do
      {:return, v} -> {:return, v}
      _ -> exec_list(rest, path)
    end
  end

  # A step sent with "by": run it, then tell the runner (which waits for this, so the step's events come
  # before the next step's, however slow this process is).
  def do_step(st, i, from, path) do
    r = Scn.Ops.run(st, i, path)
    send(from, {:scn_done, i})
    r
  end

  def serve(path) do
    receive do
      {:scn_do, st, i, from} ->
        case do_step(st, i, from, path) do
          {:return, _} -> :ok
          _ -> serve(path)
        end
      msg ->
        Scn.Tracer.event(%{"ev" => "recv", "path" => path, "raw_msg" => msg})
        serve(path)
    end
  end
end

defmodule Scn.Ops do
  @moduledoc """
  The process-level steps (spawn, link, monitor, exit, Task, Agent, Registry, PartitionSupervisor, hot code).
  Each runs in the process that executes it (the runner, a scripted process, or the one named by "by"); a
  failure (exit, error, throw) is recorded as the step's result instead of crashing that process.
  """
  # steps that record nothing when they succeed (their effects show up as other events)
  @quiet ~w(spawn link unlink monitor trap_exit exit send sleep receive task_async task_async_nolink task_sup_async hot_spawn)

  defp dec(x), do: Scn.Term.dec(x)
  defp pid!(path), do: Scn.Tracer.pid_of(path) || raise("no live process at #{path}")
  defp name(x), do: String.to_atom(x)

  def run(%{"op" => "return"} = st, _i, _by), do: {:return, dec(st["value"] || "ok")}
  def run(%{"op" => "exit_self"} = st, _i, _by), do: exit(dec(st["reason"] || "normal"))
  def run(%{"op" => op} = st, i, by) do
    ev = %{"ev" => "result", "op" => op}
    ev = if i, do: Map.put(ev, "step", i), else: ev
    ev = if by, do: Map.put(ev, "by", by), else: ev
    try do
      {:ok, exec(op, st)}
    catch
      :error, %{__exception__: true} = e -> Scn.Tracer.event(Map.merge(ev, %{"caught" => "error", "exception" => inspect(e.__struct__)}))
      kind, reason -> Scn.Tracer.event(Map.merge(ev, %{"caught" => Atom.to_string(kind), "raw_reason" => reason}))
    else
      {:ok, v} -> unless op in @quiet, do: Scn.Tracer.event(Map.put(ev, "raw_value", v))
    end
  end

  defp timeout(st, default \\ 5000) do
    case st["timeout"] do
      nil -> default
      "infinity" -> :infinity
      n -> n
    end
  end

  # ---- plain processes
  def exec("spawn", st) do
    path = st["id"]
    body = st["body"] || []
    trap = st["trap_exit"] || false
    f = fn -> Scn.Proc.run(path, trap, body) end
    pid =
      cond do
        st["link"] -> spawn_link(f)
        st["monitor"] -> ({p, ref} = spawn_monitor(f); Scn.Vars.put(st["as"] || path, ref); p)
        true -> spawn(f)
      end
    Scn.Proc.started(path, pid)
  end

  def exec("link", st), do: Process.link(pid!(st["target"]))
  def exec("unlink", st), do: Process.unlink(pid!(st["target"]))
  def exec("monitor", st), do: Scn.Vars.put(st["as"] || st["target"], Process.monitor(pid!(st["target"])))
  def exec("demonitor", st), do: Process.demonitor(Scn.Vars.get!(st["ref"]), Enum.map(st["options"] || [], &name/1))
  def exec("trap_exit", st), do: Process.flag(:trap_exit, st["value"])
  def exec("exit", st), do: Process.exit(pid!(st["target"]), dec(st["reason"]))
  def exec("send", st), do: send(pid!(st["target"]), dec(st["msg"]))
  def exec("sleep", st), do: Process.sleep(st["ms"])
  def exec("is_alive", st), do: Process.alive?(pid!(st["target"]))

  # Waits for the next message and records it; steps sent with "by" meanwhile are run (a `return` among them
  # is ignored), and the timeout counts from the start of the wait.
  def exec("receive", st) do
    path = Scn.Tracer.names() |> Map.get(self())
    path = if path, do: path |> String.split("#") |> hd(), else: "runner"
    deadline = case timeout(st, :infinity) do :infinity -> :infinity; ms -> System.monotonic_time(:millisecond) + ms end
    receive_loop(path, deadline)
  end

  defp receive_loop(path, deadline) do
    left = if deadline == :infinity, do: :infinity, else: max(deadline - System.monotonic_time(:millisecond), 0)
    receive do
      {:scn_do, st, i, from} ->
        Scn.Proc.do_step(st, i, from, path)
        receive_loop(path, deadline)
      msg ->
        Scn.Tracer.event(%{"ev" => "recv", "path" => path, "raw_msg" => msg})
    after
      left -> Scn.Tracer.event(%{"ev" => "recv_timeout", "path" => path})
    end
  end

  def exec("flush", _st) do
    {:messages, msgs} = Process.info(self(), :messages)
    for _ <- msgs, do: receive(do: (_ -> :ok))
    msgs
  end

  def exec("call", st), do: GenServer.call(pid!(st["target"]), dec(st["request"]), timeout(st))
  def exec("gen_stop", st), do: GenServer.stop(pid!(st["target"]), dec(st["reason"] || "normal"), timeout(st, :infinity))

  def exec("server_start", st) do
    opts = Map.take(st, ["trap_exit", "terminate_ms"])
    gen_opts =
      case st["name"] do
        nil -> []
        %{"via" => [reg, key]} -> [name: {:via, Registry, {name(reg), dec(key)}}]
        n when is_binary(n) -> [name: name(n)]
      end
    GenServer.start_link(Scn.Worker, {st["id"], opts, :ok}, gen_opts)
  end

  # ---- Task and Task.Supervisor
  def exec("task_sup_start", st) do
    {:ok, pid} = res = Task.Supervisor.start_link(Enum.flat_map(["max_children"], fn k -> if v = st[k], do: [{name(k), v}], else: [] end))
    Scn.Tracer.started(st["id"], pid, :supervisor)
    res
  end

  def exec(op, st) when op in ["task_async", "task_async_nolink", "task_sup_async"] do
    path = st["id"]
    body = st["body"] || []
    f = fn -> Scn.Proc.task(path, body) end
    t =
      case op do
        "task_async" -> Task.async(f)
        "task_async_nolink" -> Task.Supervisor.async_nolink(pid!(st["sup"]), f)
        "task_sup_async" -> Task.Supervisor.async(pid!(st["sup"]), f)
      end
    Scn.Vars.put(st["as"] || path, t)
    Scn.Proc.started(path, t.pid)
  end

  def exec("task_start_child", st) do
    path = st["id"]
    body = st["body"] || []
    case Task.Supervisor.start_child(pid!(st["sup"]), fn -> Scn.Proc.task(path, body) end) do
      {:ok, pid} = res -> Scn.Proc.started(path, pid); res
      other -> other
    end
  end

  def exec("task_await", st), do: Task.await(Scn.Vars.get!(st["task"]), timeout(st))
  def exec("task_yield", st), do: Task.yield(Scn.Vars.get!(st["task"]), timeout(st))
  def exec("task_shutdown", st) do
    sd = case st["shutdown"] do nil -> 5000; "brutal_kill" -> :brutal_kill; n -> n end
    Task.shutdown(Scn.Vars.get!(st["task"]), sd)
  end

  # ---- Agent
  def exec("agent_start", st) do
    v = dec(st["value"])
    case Agent.start_link(fn -> v end) do
      {:ok, pid} = res -> Scn.Tracer.started(st["id"], pid, :worker); res
      other -> other
    end
  end

  def exec("agent_get", st), do: Agent.get(pid!(st["target"]), agent_fun(st, :get), timeout(st))
  def exec("agent_update", st), do: Agent.update(pid!(st["target"]), agent_fun(st, :update), timeout(st))
  def exec("agent_get_and_update", st), do: Agent.get_and_update(pid!(st["target"]), agent_fun(st, :get_and_update), timeout(st))
  def exec("agent_cast", st), do: Agent.cast(pid!(st["target"]), agent_fun(st, :update))
  def exec("agent_stop", st), do: Agent.stop(pid!(st["target"]), dec(st["reason"] || "normal"), timeout(st, :infinity))

  # ---- Registry
  def exec("registry_start", st) do
    opts = [keys: name(st["keys"] || "unique"), name: name(st["id"])]
    Registry.start_link(opts)
  end

  def exec("registry_register", st), do: Registry.register(name(st["reg"]), dec(st["key"]), dec(st["value"]))
  def exec("registry_unregister", st), do: Registry.unregister(name(st["reg"]), dec(st["key"]))
  def exec("registry_lookup", st), do: Registry.lookup(name(st["reg"]), dec(st["key"]))
  def exec("registry_keys", st), do: Registry.keys(name(st["reg"]), pid!(st["target"]))
  def exec("registry_count", st), do: Registry.count(name(st["reg"]))
  def exec("registry_send", st), do: Registry.send({name(st["reg"]), dec(st["key"])}, dec(st["msg"]))

  def exec("registry_dispatch", st) do
    msg = dec(st["msg"])
    Registry.dispatch(name(st["reg"]), dec(st["key"]), fn entries -> for {pid, v} <- entries, do: send(pid, {msg, v}) end)
  end

  def exec("via_call", st), do: GenServer.call({:via, Registry, {name(st["reg"]), dec(st["key"])}}, dec(st["request"]), timeout(st))
  def exec("via_whereis", st), do: GenServer.whereis({:via, Registry, {name(st["reg"]), dec(st["key"])}})

  # ---- PartitionSupervisor
  def exec("partition_start", st) do
    path = st["id"]
    spec = %{id: Scn.Worker, start: {Scn.Worker, :start_link, [path, %{}]}}
    {:ok, pid} = res =
      PartitionSupervisor.start_link(child_spec: spec, name: name(path), partitions: st["partitions"] || 2,
        with_arguments: fn [p, opts], n -> ["#{p}/#{n}", opts] end)
    Scn.Tracer.started(path, pid, :supervisor)
    res
  end

  def exec("partition_call", st), do: GenServer.call({:via, PartitionSupervisor, {name(st["sup"]), dec(st["key"])}}, dec(st["request"]), timeout(st))
  def exec("partition_count", st), do: PartitionSupervisor.partitions(name(st["sup"]))

  # ---- hot code loading (module scn_hot)
  def exec("hot_load", st), do: :code.load_binary(:scn_hot, 'scn_hot.erl', Scn.Hot.binary(st["vsn"]))
  def exec("hot_start", st), do: GenServer.start_link(:scn_hot, st["id"])

  def exec("hot_spawn", st) do
    pid = if st["link"], do: spawn_link(:scn_hot, :start, [st["id"]]), else: spawn(:scn_hot, :start, [st["id"]])
    Scn.Proc.started(st["id"], pid)
  end

  def exec("sys_suspend", st), do: :sys.suspend(pid!(st["target"]))
  def exec("sys_resume", st), do: :sys.resume(pid!(st["target"]))
  def exec("sys_get_state", st), do: :sys.get_state(pid!(st["target"]))
  def exec("sys_change_code", st), do: :sys.change_code(pid!(st["target"]), :scn_hot, dec(st["old_vsn"] || 1), dec(st["extra"] || "ok"))
  def exec("purge", _st), do: :code.purge(:scn_hot)
  def exec("soft_purge", _st), do: :code.soft_purge(:scn_hot)

  defp agent_fun(st, kind) do
    fn s ->
      if r = st["exit"], do: exit(dec(r))
      new = if Map.has_key?(st, "set"), do: dec(st["set"]), else: s
      case kind do
        :get -> s
        :update -> new
        :get_and_update -> {s, new}
      end
    end
  end
end

defmodule Scn.Runner do
  @runner_ops ~w(kill crash raise wait set_start_results start_child terminate_child restart_child delete_child terminate_child_pid which_children count_children send cast call stop)
  def main(file, check?) do
    Logger.remove_backend(:console)
    scn = file |> File.read!() |> Scn.JSON.decode!()
    Process.flag(:trap_exit, true)
    {:ok, _} = Scn.Tracer.start()
    Scn.Results.init()
    Scn.Vars.init()
    for {path, l} <- scn["start_results"] || %{}, do: Scn.Results.set(path, l)
    :logger.add_handler(:scn_trace, Scn.LogHandler, %{level: :all})
    tree = scn["tree"]
    root = tree["id"] || "root"
    res = case tree["kind"] || "supervisor" do
      "supervisor" -> Scn.Sup.start_link(root, tree)
      "dynamic_supervisor" -> Scn.DynSup.start_link(root, tree)
    end
    Scn.Tracer.event(%{"ev" => "result", "op" => "start_root", "raw_value" => res})
    settle()
    scn["steps"] |> List.wrap() |> Enum.with_index(1) |> Enum.each(fn {st, i} -> step(st, i); settle() end)
    evs = Scn.Tracer.events()
    for e <- evs, do: IO.puts(Scn.JSON.encode(e))
    if check?, do: check(evs, scn["expect"] || [])
  end

  defp pid!(path), do: Scn.Tracer.pid_of(path) || raise("no live process at #{path}")
  defp term(x), do: Scn.Term.dec(x)

  defp result(i, op, value), do: Scn.Tracer.event(%{"ev" => "result", "step" => i, "op" => op, "raw_value" => value})

  defp await_down(pid, ms) do
    ref = Process.monitor(pid)
    receive do {:DOWN, ^ref, _, _, _} -> :ok after ms -> Process.demonitor(ref, [:flush]); :alive end
  end

  # a step executed by another process (its serve loop runs it and records the result)
  defp step(%{"by" => by} = st, i) do
    pid = pid!(by)
    ref = Process.monitor(pid)
    send(pid, {:scn_do, Map.delete(st, "by"), i, self()})
    receive do
      {:scn_done, ^i} -> Process.demonitor(ref, [:flush])
      {:DOWN, ^ref, _, _, _} -> :ok
    after
      5000 -> Process.demonitor(ref, [:flush])
    end
  end

  # process-level steps (Scn.Ops): spawn, link, monitor, Task, Agent, Registry, hot code, ...
  defp step(%{"op" => op} = st, i) when op not in @runner_ops, do: Scn.Ops.run(st, i, nil)

  # "exit_signal": exit(Pid, Reason) sent from outside (the runner)
  defp step(%{"op" => "kill", "target" => t} = st, _i) do
    pid = pid!(t)
    Process.exit(pid, term(st["reason"] || "kill"))
    await_down(pid, 100)
  end

  # the process itself stops with Reason ({stop, Reason, State})
  defp step(%{"op" => "crash", "target" => t} = st, _i) do
    pid = pid!(t)
    send(pid, {:scn_exit, term(st["reason"] || "boom")})
    await_down(pid, 1000)
  end

  defp step(%{"op" => "raise", "target" => t}, _i) do
    pid = pid!(t)
    send(pid, :scn_raise)
    await_down(pid, 1000)
  end

  defp step(%{"op" => "wait", "ms" => ms}, _i), do: Process.sleep(ms)
  defp step(%{"op" => "set_start_results", "path" => p, "results" => l}, _i), do: Scn.Results.set(p, l)

  defp step(%{"op" => "start_child", "sup" => sp, "spec" => spec}, i) do
    sup = pid!(sp)
    res = case spec["kind_of_sup"] || "supervisor" do
      "dynamic" -> DynamicSupervisor.start_child(sup, Scn.Spec.child(sp, spec))
      _ -> :supervisor.start_child(sup, Scn.Spec.child(sp, spec))
    end
    result(i, "start_child", res)
  end

  defp step(%{"op" => op, "sup" => sp, "id" => id}, i)
       when op in ["terminate_child", "restart_child", "delete_child"] do
    fun = String.to_atom(op)
    target = if String.contains?(id, "#") or String.starts_with?(id, "/"), do: pid!(id), else: String.to_atom(id)
    result(i, op, apply(:supervisor, fun, [pid!(sp), target]))
  end

  defp step(%{"op" => "terminate_child_pid", "sup" => sp, "target" => t}, i),
    do: result(i, "terminate_child", :supervisor.terminate_child(pid!(sp), pid!(t)))

  defp step(%{"op" => "which_children", "sup" => sp}, i) do
    names = Scn.Tracer.names()
    list =
      for {id, child, type, _mods} <- :supervisor.which_children(pid!(sp)) do
        %{"id" => Scn.Term.enc(id), "type" => Atom.to_string(type),
          "child" => (if is_pid(child), do: Map.get(names, child, "<unknown pid>"), else: Atom.to_string(child))}
      end
    Scn.Tracer.event(%{"ev" => "result", "step" => i, "op" => "which_children", "value" => list})
  end

  defp step(%{"op" => "count_children", "sup" => sp}, i) do
    counts = Map.new(:supervisor.count_children(pid!(sp)), fn {k, v} -> {Atom.to_string(k), v} end)
    Scn.Tracer.event(%{"ev" => "result", "step" => i, "op" => "count_children", "value" => counts})
  end

  defp step(%{"op" => "send", "target" => t, "msg" => m}, _i), do: send(pid!(t), term(m))
  defp step(%{"op" => "cast", "target" => t, "msg" => m}, _i), do: GenServer.cast(pid!(t), term(m))

  defp step(%{"op" => "call", "target" => t, "request" => r} = st, i) do
    res =
      try do
        {:reply, GenServer.call(pid!(t), term(r), st["timeout"] || 5000)}
      catch
        :exit, reason -> {:exit, reason}
      end
    result(i, "call", res)
  end

  defp step(%{"op" => "stop", "target" => t} = st, _i) do
    pid = pid!(t)
    Process.exit(pid, term(st["reason"] || "shutdown"))
    await_down(pid, st["timeout"] || 30_000)
  end

  # Wait until every live supervisor has drained its mailbox and no new event
  # appeared for two rounds (covers try_again_restart casts / $gen_restart msgs).
  defp settle(rounds \\ 0, last \\ -1) do
    for s <- Scn.Tracer.sups(), do: (try do :sys.get_state(s, 10_000) catch :exit, _ -> :ok end)
    Process.sleep(2)
    n = Scn.Tracer.count()
    cond do
      n == last and rounds >= 2 and not busy?() -> :ok
      rounds > 500 -> :ok
      true -> settle(if(n == last, do: rounds + 1, else: 0), n)
    end
  end

  # A traced process still runnable (not waiting in a receive) has work left, e.g. a step sent to it with "by"
  # on a loaded machine: wait for it too, or its events would land after the next step.
  defp busy? do
    me = self()
    Scn.Tracer.names()
    |> Map.keys()
    |> Enum.any?(fn pid ->
      pid != me and match?({:status, s} when s in [:runnable, :running, :garbage_collecting], Process.info(pid, :status))
    end)
  end

  # expected list items: an event pattern (subset match, "t" ignored unless
  # "t_min"/"t_max" given), or {"any_order": [patterns...]}.
  defp check(evs, expect) do
    evs = Enum.map(evs, &Map.delete(&1, "t_keep"))
    case match(evs, expect) do
      :ok -> IO.puts(:stderr, "CHECK OK"); System.halt(0)
      {:error, msg} -> IO.puts(:stderr, "CHECK FAILED: " <> msg); System.halt(1)
    end
  end

  defp match(_evs, []), do: :ok
  defp match(evs, [%{"any_order" => group} | rest]) do
    {taken, left} = Enum.split(evs, length(group))
    if perm_match?(taken, group), do: match(left, rest), else: {:error, "any_order group #{Scn.JSON.encode(group)} vs #{Scn.JSON.encode(taken)}"}
  end
  defp match([e | evs], [p | rest]) do
    if sub?(e, p), do: match(evs, rest), else: {:error, "expected #{Scn.JSON.encode(p)} got #{Scn.JSON.encode(e)}"}
  end
  defp match([], [p | _]), do: {:error, "missing #{Scn.JSON.encode(p)}"}

  defp perm_match?([], []), do: true
  defp perm_match?(evs, [p | ps]) do
    Enum.any?(Enum.with_index(evs), fn {e, i} -> sub?(e, p) and perm_match?(List.delete_at(evs, i), ps) end)
  end
  defp perm_match?(_, _), do: false

  defp sub?(e, p) do
    Enum.all?(p, fn
      {"t_min", v} -> e["t"] >= v
      {"t_max", v} -> e["t"] <= v
      {k, v} -> Map.get(e, k) == v
    end)
  end
end

case System.argv() do
  [file | rest] -> Scn.Runner.main(file, "--check" in rest)
  _ -> IO.puts("usage: elixir --erl \"+S 1:1\" otp_scenario_runner.exs scenario.json [--check]")
end
