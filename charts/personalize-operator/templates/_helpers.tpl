{{/* Names, labels and small computed values shared by the templates. */}}

{{- define "personalize-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "personalize-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "personalize-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "personalize-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "personalize-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "personalize-operator.labels" -}}
helm.sh/chart: {{ include "personalize-operator.chart" . }}
{{ include "personalize-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: personalize-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "personalize-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "personalize-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "personalize-operator.leaseName" -}}
{{- default (include "personalize-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "personalize-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The rules on the custom resources, events and (optionally) Secrets: the same whether they
     are granted cluster-wide (ClusterRole) or in the watched namespace (Role). Derived from the
     operator's calls: list/watch (controllers and their reflectors), get (references), patch
     (finalizers are JSON patches; status is server-side applied), Events through kube-runtime's
     Recorder (create, then patch for a repeated event). */}}
{{- define "personalize-operator.rules" -}}
- apiGroups: ["personalize-operator.dev"]
  resources: ["datasetgroups", "solutions", "campaigns", "eventtrackers", "filters", "recommenders", "metricattributions", "batchinferencejobs", "batchsegmentjobs", "datasetexportjobs", "datadeletionjobs"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["personalize-operator.dev"]
  resources: ["datasetgroups/status", "solutions/status", "campaigns/status", "eventtrackers/status", "filters/status", "recommenders/status", "metricattributions/status", "batchinferencejobs/status", "batchsegmentjobs/status", "datasetexportjobs/status", "datadeletionjobs/status"]
  verbs: ["patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.rbac.trackingIdSecrets }}
# EventTracker spec.trackingIdSecretName: the Secret is server-side applied, a PATCH that the
# apiserver authorizes as create too when the Secret does not exist yet. It is never read. It is
# owned by its EventTracker with blockOwnerDeletion, which the OwnerReferencesPermissionEnforcement
# admission plugin allows only with update on eventtrackers/finalizers.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create", "patch"]
- apiGroups: ["personalize-operator.dev"]
  resources: ["eventtrackers/finalizers"]
  verbs: ["update"]
{{- end }}
{{- if .Values.rbac.publish }}
# spec.publish: ConfigMaps and Secrets server-side applied (never read), owned by their object
# with blockOwnerDeletion, hence update on each kind's finalizers.
- apiGroups: [""]
  resources: ["configmaps", "secrets"]
  verbs: ["create", "patch"]
- apiGroups: ["personalize-operator.dev"]
  resources: ["datasetgroups/finalizers", "solutions/finalizers", "campaigns/finalizers", "eventtrackers/finalizers", "filters/finalizers", "recommenders/finalizers", "metricattributions/finalizers"]
  verbs: ["update"]
{{- end }}
{{- end }}
