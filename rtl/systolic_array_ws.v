// systolic_array_ws -- ROWS x COLS INT8 weight-stationary systolic array that computes a
// whole GEMM tile C[M x N] = A[M x K] @ B[K x N] (int8 operands, int32 results wrapping
// modulo 2^32) from its own operand memories, fold by fold.
//
// Built from systolic_pe_int8. Weight-stationary mapping (docs/systolic.md): K on the array
// rows, N on the columns, the M rows of A stream through. The GEMM is cut into
// folds = ceil(K/ROWS) * ceil(N/COLS); a partial fold at the edge is padded with zero
// weights and zero activations and takes as long as a full one. Each fold:
//   load   ROWS cycles: one row of B per cycle enters the top row and shifts down
//                       (bottom array row first), so after ROWS cycles PE(r,c) holds
//                       B[kf*ROWS + r][nf*COLS + c];
//   stream M + ROWS + COLS - 2 cycles: stream cycle t feeds A[t - r][kf*ROWS + r] into the
//                       left of row r (the skew comes from the addressing); PE(r,c) works
//                       on row m of A in stream cycle m + r + c; the bottom row's MAC result
//                       is added into the output accumulator C in the same cycle
//                       (the accumulator register is the bottom PE's output register).
// Folds run back to back and never overlap, so a tile takes exactly
//   folds * (ROWS + ROWS + COLS + M - 2) cycles
// = accsim.kernels.systolic.gemm_cycles(0, ROWS, COLS, M, N, K, False).
//
// Cycle counting (what the tests compare): cycle 1 is the rising edge at which `start` is
// sampled high (that edge already shifts in the first weight row); the count ends with the
// rising edge at which `done` is sampled high, inclusive. `done` is a one-cycle pulse high
// during the last working cycle; the edge that samples it writes the last results, so C is
// complete right after that edge. `busy` is high from the cycle after start to done.
//
// Handshake: start/done. `start` is only honoured while idle; m_size, n_size, k_size are
// sampled with it (1 <= m_size <= MAX_M, likewise n and k). Operand memories are written
// through the load port (ld_en, ld_sel 0 = A at ld_addr = m*MAX_K + k, 1 = B at
// ld_addr = k*MAX_N + n) while idle; C is read combinationally at rd_addr = m*MAX_N + n.
// Reset: synchronous, active high; returns to idle (memory contents are kept).
`timescale 1ns/1ps
module systolic_array_ws #(
    parameter ROWS = 4,
    parameter COLS = 4,
    parameter MAX_M = 32,
    parameter MAX_N = 32,
    parameter MAX_K = 32,
    parameter AW = 16             // memory address width
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               start,
    input  wire [AW-1:0]      m_size,
    input  wire [AW-1:0]      n_size,
    input  wire [AW-1:0]      k_size,
    output wire               busy,
    output wire               done,
    input  wire               ld_en,
    input  wire               ld_sel,
    /* verilator lint_off UNUSEDSIGNAL */  // addresses above the memory size are ignored
    input  wire [AW-1:0]      ld_addr,
    input  wire [7:0]         ld_data,
    input  wire [AW-1:0]      rd_addr,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [31:0]        rd_data
);
    localparam IDLE = 2'd0, LOAD = 2'd1, STREAM = 2'd2;
    localparam integer ROWS_I = ROWS, COLS_I = COLS;
    // geometry as AW-bit numbers, so that counter arithmetic stays AW bits wide
    localparam [AW-1:0] R_AW = ROWS_I[AW-1:0];
    localparam [AW-1:0] C_AW_N = COLS_I[AW-1:0];
    localparam [AW-1:0] ONE = 1;
    localparam integer MAX_N_I = MAX_N, MAX_K_I = MAX_K;
    localparam [AW-1:0] MAX_N_AW = MAX_N_I[AW-1:0];
    localparam [AW-1:0] MAX_K_AW = MAX_K_I[AW-1:0];

    // memories are rounded up to a power of two so that an address is a plain bit slice
    localparam A_AW = $clog2(MAX_M*MAX_K), B_AW = $clog2(MAX_K*MAX_N), C_AW = $clog2(MAX_M*MAX_N);
    reg signed [7:0]  a_mem [0:(1<<A_AW)-1];
    reg signed [7:0]  b_mem [0:(1<<B_AW)-1];
    reg signed [31:0] c_mem [0:(1<<C_AW)-1];

    reg [1:0]    state;
    reg [AW-1:0] m_r, n_r, k_r;
    reg [AW-1:0] k_base, n_base;   // first K row / N column of the current fold
    reg [AW-1:0] t;                // cycle within the load or stream phase

    wire idle_start = (state == IDLE) && start;
    // The first fold may begin in the start cycle, so the sizes come from the inputs then.
    wire [AW-1:0] n_cur = idle_start ? n_size : n_r;
    wire [AW-1:0] k_cur = idle_start ? k_size : k_r;
    wire [AW-1:0] k_fold = idle_start ? {AW{1'b0}} : k_base;
    wire [AW-1:0] n_fold = idle_start ? {AW{1'b0}} : n_base;
    wire [AW-1:0] t_cur = idle_start ? {AW{1'b0}} : t;
    wire loading = idle_start || (state == LOAD);
    wire streaming = (state == STREAM);
    wire [AW-1:0] stream_len = m_r + R_AW + C_AW_N - ONE - ONE;
    wire last_stream = streaming && (t == stream_len - ONE);
    wire last_fold = (n_base + C_AW_N >= n_r) && (k_base + R_AW >= k_r);

    assign busy = (state != IDLE);
    assign done = last_stream && last_fold;

    // ---- operand feeds -------------------------------------------------------------------
    wire signed [7:0]  w_top  [0:COLS-1];
    wire signed [7:0]  a_left [0:ROWS-1];
    wire signed [7:0]  w_link [0:ROWS*COLS-1];
    wire signed [7:0]  a_link [0:ROWS*COLS-1];
    wire signed [31:0] p_link [0:ROWS*COLS-1];
    wire signed [31:0] mac    [0:ROWS*COLS-1];

    genvar r, c;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : g_wfeed
            // load cycle t brings array row ROWS-1-t of the fold
            wire [AW-1:0] kk = k_fold + R_AW - ONE - t_cur;
            wire [AW-1:0] nn = n_fold + c;
            /* verilator lint_off UNUSEDSIGNAL */  // only the low bits address the memory
            wire [AW-1:0] addr = kk*MAX_N_AW + nn;
            /* verilator lint_on UNUSEDSIGNAL */
            assign w_top[c] = (kk < k_cur && nn < n_cur) ? b_mem[addr[B_AW-1:0]] : 8'sd0;
        end
        for (r = 0; r < ROWS; r = r + 1) begin : g_afeed
            wire [AW-1:0] mm = t - r;      // wraps to a large value when t < r
            wire [AW-1:0] kk = k_base + r;
            /* verilator lint_off UNUSEDSIGNAL */  // only the low bits address the memory
            wire [AW-1:0] addr = mm*MAX_K_AW + kk;
            /* verilator lint_on UNUSEDSIGNAL */
            wire in_skew = (r == 0) ? 1'b1 : (t >= r);
            assign a_left[r] = (streaming && in_skew && mm < m_r && kk < k_r)
                               ? a_mem[addr[A_AW-1:0]] : 8'sd0;
        end
        for (r = 0; r < ROWS; r = r + 1) begin : g_row
            for (c = 0; c < COLS; c = c + 1) begin : g_col
                systolic_pe_int8 pe (
                    .clk(clk), .rst(rst), .w_shift(loading),
                    .w_in(r == 0 ? w_top[c] : w_link[(r-1)*COLS + c]),
                    .w_out(w_link[r*COLS + c]),
                    .a_in(c == 0 ? a_left[r] : a_link[r*COLS + c - 1]),
                    .a_out(a_link[r*COLS + c]),
                    .psum_in(r == 0 ? 32'sd0 : p_link[(r-1)*COLS + c]),
                    .psum_out(p_link[r*COLS + c]),
                    .mac(mac[r*COLS + c]));
            end
        end
    endgenerate

    // ---- output accumulation: column c's bottom PE finishes row t - (ROWS-1) - c ----------
    wire          out_en   [0:COLS-1];
    wire [C_AW-1:0] out_addr [0:COLS-1];
    generate
        for (c = 0; c < COLS; c = c + 1) begin : g_out
            wire [AW-1:0] mm = t - (R_AW - ONE) - c[AW-1:0];
            wire [AW-1:0] nn = n_base + c;
            /* verilator lint_off UNUSEDSIGNAL */  // only the low bits address the memory
            wire [AW-1:0] addr = mm*MAX_N_AW + nn;
            /* verilator lint_on UNUSEDSIGNAL */
            wire in_skew = (ROWS_I - 1 + c == 0) ? 1'b1 : (t >= R_AW - ONE + c[AW-1:0]);
            assign out_en[c] = streaming && in_skew && mm < m_r && nn < n_r;
            assign out_addr[c] = addr[C_AW-1:0];
        end
    endgenerate

    integer j;
    always @(posedge clk) begin
        for (j = 0; j < COLS; j = j + 1)
            if (out_en[j])
                c_mem[out_addr[j]] <= (k_base == 0 ? 32'sd0 : c_mem[out_addr[j]]) + mac[(ROWS-1)*COLS + j];
    end

    // ---- control -----------------------------------------------------------------------
    always @(posedge clk) begin
        if (rst) begin
            state <= IDLE;
            t <= {AW{1'b0}};
            k_base <= {AW{1'b0}};
            n_base <= {AW{1'b0}};
        end else begin
            case (state)
                IDLE: if (start) begin
                    m_r <= m_size;
                    n_r <= n_size;
                    k_r <= k_size;
                    k_base <= {AW{1'b0}};
                    n_base <= {AW{1'b0}};
                    t <= (ROWS == 1) ? {AW{1'b0}} : 1;
                    state <= (ROWS == 1) ? STREAM : LOAD;
                end
                LOAD: if (t == R_AW - ONE) begin
                    t <= {AW{1'b0}};
                    state <= STREAM;
                end else begin
                    t <= t + 1;
                end
                STREAM: begin
                    if (last_stream) begin
                        t <= {AW{1'b0}};
                        if (last_fold) begin
                            state <= IDLE;
                        end else begin
                            state <= LOAD;
                            if (n_base + C_AW_N >= n_r) begin
                                n_base <= {AW{1'b0}};
                                k_base <= k_base + R_AW;
                            end else begin
                                n_base <= n_base + C_AW_N;
                            end
                        end
                    end else begin
                        t <= t + 1;
                    end
                end
                default: state <= IDLE;
            endcase
        end
    end

    // ---- operand load port and result read port -----------------------------------------
    always @(posedge clk) begin
        if (ld_en && state == IDLE) begin
            if (ld_sel) b_mem[ld_addr[B_AW-1:0]] <= ld_data;
            else a_mem[ld_addr[A_AW-1:0]] <= ld_data;
        end
    end
    assign rd_data = c_mem[rd_addr[C_AW-1:0]];
endmodule
